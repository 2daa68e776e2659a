import Foundation
import Testing

@testable import PersonaShim

/// Hot reload and the kill switch, driven in-process on the fake clock.
@Suite struct SessionCoreOperatorTests {
    static let version1 = SessionCoreTests.twoServers

    static func persona(_ text: String) throws -> Persona {
        let loaded = PersonaLoader.decode(bytes: Array(text.utf8), path: NSTemporaryDirectory() + "/reloaded.json")
        return try #require(loaded.persona, "\(loaded.diagnostics)")
    }

    func readyHarness() throws -> CoreHarness {
        let harness = try CoreHarness(persona: Self.version1)
        #expect(harness.initializeAgent() == [.start(server: 0), .start(server: 1)])
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read", "secret"])
        _ = harness.agentMessages()
        harness.agent(#"{"jsonrpc":"2.0","id":"list","method":"tools/list"}"#)
        _ = harness.agentMessages()
        return harness
    }

    func call(_ id: Int, _ tool: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{"x":1}}}"#
    }

    @Test func aReloadJudgesEveryCallByOneVersionAndLetsCallsInFlightFinish() throws {
        let harness = try readyHarness()
        harness.agent(call(1, "a__echo"))
        let inFlight = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
        // Version 2 hides a__echo and shows b__secret.
        let version2 = try Self.persona(
            Self.version1.replacingOccurrences(of: #"["a__*", "b__read*"]"#, with: #"["b__*"]"#))
        harness.core.reload(to: version2)
        // The call judged by version 1 completes under it.
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(inFlight),"result":{"content":[]}}"#)
        let answered = harness.agentMessages()
        #expect(answered.count == 1)
        #expect(answered.first?["id"] as? Int == 1)
        #expect(answered.first?.result != nil)
        // The next calls meet version 2 only.
        harness.agent(call(2, "a__echo"))
        #expect(harness.agentMessages().first?.errorCode == -32602)
        harness.agent(call(3, "b__secret"))
        #expect(CoreHarness.id(of: harness.serverMessages(1), method: "tools/call") != nil)
        // The agent hears that its tools changed.
        harness.advance(seconds: 0.1)
        #expect(
            harness.agentMessages().contains { $0["method"] as? String == "notifications/tools/list_changed" })
        let reload = try #require(harness.auditRecords().first { $0["event"] as? String == "persona.reload" })
        #expect(reload["decision"] as? String == "applied")
        #expect(reload["oldDigest"] as? String == "sha256:" + SHA256.hash(Array(Self.version1.utf8)).hexString)
        #expect(reload["newDigest"] as? String == version2.digest)
        #expect(harness.core.persona.digest == version2.digest)
    }

    @Test func aRejectedReloadKeepsThePersonaInForce() throws {
        let harness = try readyHarness()
        let before = harness.core.persona.digest
        harness.core.reloadRejected(newDigest: "sha256:beef", reason: "persona.json:3:1: error: something")
        harness.agent(call(1, "a__echo"))
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") != nil)
        #expect(harness.core.persona.digest == before)
        let reload = try #require(harness.auditRecords().first { $0["event"] as? String == "persona.reload" })
        #expect(reload["decision"] as? String == "rejected")
        #expect(reload["oldDigest"] as? String == before)
        #expect(reload["reason"] as? String == "persona.json:3:1: error: something")
    }

    @Test func aReloadStopsRemovedServersAndStartsNewOnes() throws {
        let harness = try readyHarness()
        harness.agent(call(1, "a__echo"))
        _ = harness.serverMessages(0)
        let version2 = try Self.persona(
            Self.version1
                .replacingOccurrences(of: #""a": {"command": "a-server"}"#, with: #""c": {"command": "c-server"}"#)
                .replacingOccurrences(of: #"["a__*", "b__read*"]"#, with: #"["c__*", "b__read*"]"#))
        harness.core.reload(to: version2)
        // The removed server is taken down; its call in flight gets an error at once; the new one starts.
        #expect(harness.core.takeActions() == [.stop(server: 0), .start(server: 2)])
        #expect(harness.agentMessages().first?["id"] as? Int == 1)
        try harness.bringUp(2, tools: ["go"])
        harness.agent(call(2, "c__go"))
        #expect(CoreHarness.id(of: harness.serverMessages(2), method: "tools/call") != nil)
        harness.agent(call(3, "a__echo"))
        #expect(harness.agentMessages().last?.errorCode == -32602)
        let reload = try #require(harness.auditRecords().first { $0["event"] as? String == "persona.reload" })
        #expect(reload["serversAdded"] as? [String] == ["c"])
        #expect(reload["serversRemoved"] as? [String] == ["a"])
    }

    @Test func limitsDefinedAsBeforeKeepTheirCountsAcrossAReload() throws {
        let limited = Self.version1.replacingOccurrences(
            of: #""resources""#, with: #""limits": [{"id": "budget", "calls": 2}], "resources""#)
        let harness = try CoreHarness(persona: limited)
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(call(1, "a__echo"))
        harness.core.reload(to: try Self.persona(limited.replacingOccurrences(of: "t@example.com", with: "u@x.org")))
        harness.agent(call(2, "a__echo"))
        harness.agent(call(3, "a__echo"))
        let refused = harness.agentMessages().last
        #expect(refused?["id"] as? Int == 3)
        #expect((refused?.result?["isError"] as? Bool) == true)
    }

    @Test func theKillSwitchRefusesEveryCallUntilLiftedAndIsAudited() throws {
        let harness = try readyHarness()
        harness.core.killSwitchChanged(
            KillSwitchState(
                scope: "persona", file: "/k/core-test", reason: "stopped by ops",
                lift: "an operator runs 'persona-shim unkill core-test'"))
        harness.agent(call(1, "a__echo"))
        let refused = try #require(harness.agentMessages().first)
        #expect(refused.result?["isError"] as? Bool == true)
        let text = ((refused.result?["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        #expect(text.contains("an operator stopped the persona \"core-test\""))
        #expect(text.contains("persona-shim unkill core-test"))
        #expect(harness.serverMessages(0).isEmpty)
        // Lists stay.
        harness.agent(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        #expect(harness.agentMessages().first?.result?["tools"] != nil)
        harness.core.killSwitchChanged(nil)
        harness.agent(call(3, "a__echo"))
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") != nil)
        let records = try harness.auditRecords()
        #expect(records.filter { $0["event"] as? String == "kill.engaged" }.count == 1)
        #expect(records.filter { $0["event"] as? String == "kill.lifted" }.count == 1)
        let decision = records.first { $0["rule"] as? String == "kill-switch" }
        #expect(decision?["decision"] as? String == "deny")
        #expect(decision?["tool"] as? String == "a__echo")
    }

    @Test func aModernAgentHearsOfAReloadOnItsListen() throws {
        let harness = try SessionCoreListenTests().modernHarness()
        harness.agent(
            SessionCoreEraTests.request(
                7, "subscriptions/listen", params: #""notifications":{"toolsListChanged":true}"#))
        _ = harness.agentMessages()
        harness.core.reload(
            to: try Self.persona(
                Self.version1.replacingOccurrences(of: #"["a__*", "b__read*"]"#, with: #"["b__*"]"#)))
        harness.advance(seconds: 0.1)
        let changed = try #require(harness.agentMessages().first)
        #expect(changed["method"] as? String == "notifications/tools/list_changed")
        let meta = (changed["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(meta?["io.modelcontextprotocol/subscriptionId"] as? Int == 7)
        harness.agent(SessionCoreEraTests.request(8, "tools/list"))
        let tools = try #require(harness.agentMessages().first?.result?["tools"] as? [[String: Any]])
        #expect(tools.compactMap { $0["name"] as? String } == ["b__read"])
    }

    @Test func aCallWaitingForApprovalIsRefusedWhenThePersonaChanges() throws {
        let approvals = SessionCoreApprovalTests()
        let text = SessionCoreApprovalTests.persona()
        let harness = try approvals.ready(text)
        harness.agent(approvals.call(7))
        let (id, _) = try approvals.question(harness)
        harness.core.reload(to: try Self.persona(text.replacingOccurrences(of: "t@example.com", with: "u@x.org")))
        let messages = harness.agentMessages()
        // The client's question is withdrawn, and the call refused, saying why.
        #expect(
            messages.contains {
                $0["method"] as? String == "notifications/cancelled"
                    && ($0["params"] as? [String: Any])?["requestId"] as? Int == id
            })
        let refusal = try #require(messages.first { $0["id"] as? Int == 7 })
        #expect(
            SessionCoreApprovalTests.refusalText(refusal)?.contains("the persona changed while it waited") == true)
        // A late yes releases nothing.
        approvals.answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(approvals.forwardedCalls(harness).isEmpty)
    }

    @Test func aCallApprovedWhileThePersonaIsStoppedIsRefused() throws {
        let approvals = SessionCoreApprovalTests()
        let harness = try approvals.ready()
        harness.agent(approvals.call(7))
        let (id, _) = try approvals.question(harness)
        harness.core.killSwitchChanged(
            KillSwitchState(
                scope: "all", file: "/k/@all", reason: "incident", lift: "an operator runs 'persona-shim unkill --all'")
        )
        approvals.answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(approvals.forwardedCalls(harness).isEmpty)
        let refusal = try #require(harness.agentMessages().first { $0["id"] as? Int == 7 })
        #expect(
            SessionCoreApprovalTests.refusalText(refusal)?.contains("an operator stopped the persona \"refunds\"")
                == true)
    }
}
