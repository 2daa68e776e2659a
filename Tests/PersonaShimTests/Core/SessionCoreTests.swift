import Foundation
import Testing

@testable import PersonaShim

/// The session core driven in-process: routing, refusals, timeouts, parking, fan-out and crashes, on a fake clock
/// and with no process anywhere.
@Suite struct SessionCoreTests {
    static let twoServers = """
        {"persona": "core-test", "purpose": "Tests the core.", "owner": "t@example.com", "reviewBy": "2030-01-01",
         "servers": {"a": {"command": "a-server"}, "b": {"command": "b-server"}},
         "tools": {"allow": ["a__*", "b__read*"]},
         "resources": {"allow": ["*"]},
         "timeouts": {"callSeconds": 5, "initializeSeconds": 10}}
        """

    func readyHarness(capabilities: String = #"{"tools":{}}"#) throws -> CoreHarness {
        let harness = try CoreHarness(persona: Self.twoServers)
        #expect(harness.initializeAgent() == [.start(server: 0), .start(server: 1)])
        try harness.bringUp(0, tools: ["echo"], capabilities: capabilities)
        try harness.bringUp(1, tools: ["read", "secret"], capabilities: capabilities)
        let initialized = harness.agentMessages()
        #expect(initialized.first?["id"] as? Int == 0)
        #expect(initialized.first?.result?["protocolVersion"] as? String == "2025-11-25")
        return harness
    }

    func call(_ id: String, _ tool: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{"x":1}}}"#
    }

    @Test func idsThatCollideAreMappedApartAndBack() throws {
        let harness = try readyHarness()
        // The agent uses 7 twice in kind (a number and a string) and both servers would answer under their own ids.
        harness.agent(call("7", "a__echo"))
        harness.agent(call(#""7""#, "b__read"))
        let toA = try #require(harness.serverMessages(0).first)
        let toB = try #require(harness.serverMessages(1).first)
        let idA = try #require(toA["id"] as? Int)
        let idB = try #require(toB["id"] as? Int)
        #expect(idA != idB)
        #expect((toA["params"] as? [String: Any])?["name"] as? String == "echo")
        #expect((toB["params"] as? [String: Any])?["name"] as? String == "read")
        // Answers come back in the other order; each reaches the agent under its own id.
        harness.server(1, #"{"jsonrpc":"2.0","id":\#(idB),"result":{"content":[{"type":"text","text":"from b"}]}}"#)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(idA),"result":{"content":[{"type":"text","text":"from a"}]}}"#)
        let answers = harness.agentMessages()
        #expect(answers.count == 2)
        #expect(answers[0]["id"] as? String == "7")
        #expect(answers[1]["id"] as? Int == 7)
        // A server answering an id it was never given (another server's) reaches nobody.
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(idB),"result":{}}"#)
        #expect(harness.agentMessages().isEmpty)
    }

    @Test func aServerRequestIsRelayedUnderTheShimsIdAndAnsweredUnderTheServers() throws {
        let harness = try CoreHarness(
            persona: Self.twoServers.replacingOccurrences(
                of: #""timeouts""#, with: #""serverRequests": {"roots": true}, "timeouts""#))
        _ = harness.initializeAgent(capabilities: #"{"roots":{}}"#)
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        // Both servers use id 1 for their own request.
        harness.server(0, #"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#)
        harness.server(1, #"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#)
        let relayed = harness.agentMessages()
        let first = try #require(relayed.first?["id"] as? Int)
        let second = try #require(relayed.last?["id"] as? Int)
        #expect(relayed.count == 2 && first != second)
        harness.agent(#"{"jsonrpc":"2.0","id":\#(second),"result":{"roots":[]}}"#)
        harness.agent(#"{"jsonrpc":"2.0","id":\#(first),"result":{"roots":[{"uri":"file:///a"}]}}"#)
        #expect(harness.serverMessages(0).first?["id"] as? Int == 1)
        #expect(((harness.serverMessages(1).first)?.result?["roots"] as? [Any])?.isEmpty == true)
    }

    @Test func aHiddenToolIsRefusedLikeAMissingOneAndNothingReachesTheServer() throws {
        let harness = try readyHarness()
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        let tools = try #require(harness.agentMessages().first?.result?["tools"] as? [[String: Any]])
        #expect(tools.compactMap { $0["name"] as? String } == ["a__echo", "b__read"])
        harness.agent(call("2", "b__secret"))
        harness.agent(call("3", "b__nothing"))
        let answers = harness.agentMessages()
        #expect(answers.map(\.errorCode) == [-32602, -32602])
        #expect(
            answers.map { ($0["error"] as? [String: Any])?["message"] as? String } == [
                "Unknown tool: b__secret", "Unknown tool: b__nothing",
            ])
        #expect(harness.serverMessages(1).isEmpty)
        let decisions = try harness.auditRecords().filter { $0["event"] as? String == "call.decision" }
        #expect(decisions.map { $0["rule"] as? String } == ["default-deny", "unknown-tool"])
    }

    @Test func aCallTimesOutOnTheClockAndTheLateAnswerIsDropped() throws {
        let harness = try readyHarness()
        harness.agent(call("9", "a__echo"))
        let id = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
        harness.advance(seconds: 4.9)
        #expect(harness.agentMessages().isEmpty)
        #expect(harness.core.nextDeadline() != nil)
        harness.advance(seconds: 0.2)
        let answer = try #require(harness.agentMessages().first)
        #expect(answer["id"] as? Int == 9)
        #expect(answer.errorCode == JSONRPCError.requestTimeout)
        let cancel = try #require(harness.serverMessages(0).first)
        #expect(cancel["method"] as? String == "notifications/cancelled")
        #expect((cancel["params"] as? [String: Any])?["requestId"] as? Int == id)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[]}}"#)
        #expect(harness.agentMessages().isEmpty)
        let outcomes = try harness.auditRecords().filter { $0["event"] as? String == "call.outcome" }
        #expect(outcomes.map { $0["outcome"] as? String } == ["timeout"])
    }

    @Test func aRequestIsParkedUntilTheServersAreReadyThenReleased() throws {
        let harness = try CoreHarness(persona: Self.twoServers)
        _ = harness.initializeAgent()
        harness.agent(call("5", "a__echo"))
        #expect(harness.agentMessages().isEmpty)
        try harness.bringUp(0, tools: ["echo"])
        #expect(harness.serverMessages(0).isEmpty, "parked until every server has settled")
        try harness.bringUp(1, tools: ["read"])
        let released = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(released),"result":{"content":[]}}"#)
        let answers = harness.agentMessages()
        #expect(answers.map { $0["id"] as? Int } == [0, 5])
    }

    @Test func aParkedRequestIsReleasedWhenTheStartupWindowCloses() throws {
        let harness = try CoreHarness(persona: Self.twoServers)
        _ = harness.initializeAgent()
        harness.agent(call("5", "a__echo"))
        try harness.bringUp(0, tools: ["echo"])
        // Server b never answers initialize: the window closes, b fails, and the parked call goes to a.
        harness.advance(seconds: 10.2)
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") != nil)
        #expect(harness.agentMessages().first?["id"] as? Int == 0)
    }

    @Test func aFanOutCompletesWithEveryServersPagesMerged() throws {
        let capabilities = #"{"tools":{},"resources":{}}"#
        let harness = try readyHarness(capabilities: capabilities)
        harness.agent(#"{"jsonrpc":"2.0","id":"list","method":"resources/list"}"#)
        let pageA = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "resources/list"))
        let pageB = try #require(CoreHarness.id(of: harness.serverMessages(1), method: "resources/list"))
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(pageA),"result":{"resources":[{"uri":"file:///a1","name":"a1"}],"nextCursor":"p2"}}"#
        )
        #expect(harness.agentMessages().isEmpty, "one server still owes pages")
        let second = try #require(harness.serverMessages(0).first)
        #expect((second["params"] as? [String: Any])?["cursor"] as? String == "p2")
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(second["id"] as! Int),"result":{"resources":[{"uri":"file:///a2","name":"a2"}]}}"#
        )
        harness.server(
            1, #"{"jsonrpc":"2.0","id":\#(pageB),"result":{"resources":[{"uri":"file:///b1","name":"b1"}]}}"#)
        let merged = try #require(harness.agentMessages().first)
        #expect(merged["id"] as? String == "list")
        let uris = (merged.result?["resources"] as? [[String: Any]])?.compactMap { $0["uri"] as? String }
        // With two servers, each URI carries its server's prefix.
        #expect(uris == ["a+file:///a1", "a+file:///a2", "b+file:///b1"])
    }

    @Test func aCrashFailsOnlyThatServersRequestsAndSchedulesARestart() throws {
        let harness = try readyHarness()
        harness.agent(call("1", "a__echo"))
        harness.agent(call("2", "b__read"))
        _ = harness.serverMessages(0)
        let idB = try #require(CoreHarness.id(of: harness.serverMessages(1), method: "tools/call"))
        harness.core.serverExited(0, status: .signaled(9))
        harness.core.serverDisconnected(0)
        let failed = harness.agentMessages()
        #expect(failed.map { $0["id"] as? Int } == [1])
        #expect(failed.first?.errorCode == JSONRPCError.requestFailed)
        #expect(harness.core.takeActions().isEmpty, "the process is gone; nothing to stop")
        harness.server(1, #"{"jsonrpc":"2.0","id":\#(idB),"result":{"content":[]}}"#)
        #expect(harness.agentMessages().map { $0["id"] as? Int } == [2])
        // While it is down, its tools are gone and a call says so.
        harness.agent(call("3", "a__echo"))
        #expect(harness.agentMessages().first?.errorCode == -32602)
        harness.advance(seconds: 1.01)
        #expect(harness.core.takeActions() == [.restart(server: 0)])
        harness.core.serverRestarting(0)
        #expect(harness.core.takeActions() == [.start(server: 0)])
        let events = try harness.auditRecords().compactMap { $0["event"] as? String }
        #expect(events.contains("child.exit") && events.contains("child.failed") && events.contains("child.restart"))
    }

    @Test func forwardsWaitForTheirAuditRecordAndAreRefusedWithoutIt() throws {
        // A file stands where the audit's folder should be: no record can be written.
        let blocker = NSTemporaryDirectory() + "core-blocker-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let harness = try CoreHarness(persona: Self.twoServers, auditPath: blocker + "/audit.jsonl")
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(call("4", "a__echo"))
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") == nil)
        let refusal = try #require(harness.agentMessages().first)
        #expect(refusal["id"] as? Int == 4)
        #expect(refusal.result?["isError"] as? Bool == true)
    }
}
