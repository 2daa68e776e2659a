import Foundation
import Testing

@testable import PersonaShim

/// What the core writes to the audit trail, and that nothing goes out without its record.
@Suite struct SessionCoreAuditTests {
    static let persona = SessionCoreTests.twoServers.replacingOccurrences(
        of: #""timeouts""#, with: #""serverRequests": {"roots": true}, "timeouts""#)

    @Test func aRefusedResourceRecordsTheRuleThatDecided() throws {
        // Server a offers no resources: the URI names it, the persona allows everything, and still nothing is there.
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"], capabilities: #"{"tools":{},"resources":{}}"#)
        _ = harness.agentMessages()
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a+file:///x"}}"#)
        harness.agent(#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"zz+file:///x"}}"#)
        #expect(harness.agentMessages().map(\.errorCode) == [-32002, -32002])
        let decisions = try harness.auditRecords().filter { $0["event"] as? String == "call.decision" }
        #expect(decisions.map { $0["decision"] as? String } == ["deny", "deny"])
        #expect(decisions.map { $0["rule"] as? String } == ["unknown-resource", "unknown-resource"])
        #expect(decisions.allSatisfy { !(($0["reason"] as? String) ?? "").contains("allow pattern") })
    }

    @Test func aServerRequestWhoseRecordCannotBeWrittenIsNotRelayed() throws {
        let blocker = NSTemporaryDirectory() + "core-blocker-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let harness = try CoreHarness(persona: Self.persona, auditPath: blocker + "/audit.jsonl")
        _ = harness.initializeAgent(capabilities: #"{"roots":{}}"#)
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.server(0, #"{"jsonrpc":"2.0","id":"r1","method":"roots/list"}"#)
        #expect(harness.agentMessages().isEmpty, "no record on file, no relay")
        let answer = try #require(harness.serverMessages(0).first)
        #expect(answer["id"] as? String == "r1")
        #expect(answer.errorCode == JSONRPCError.internalError)
    }

    @Test func aRelayedServerRequestIsOnFileBeforeTheAgentSeesIt() throws {
        let harness = try CoreHarness(persona: Self.persona)
        _ = harness.initializeAgent(capabilities: #"{"roots":{}}"#)
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.server(1, #"{"jsonrpc":"2.0","id":3,"method":"roots/list"}"#)
        #expect(harness.agentMessages().count == 1)
        let records = try harness.auditRecords().filter { $0["event"] as? String == "server.request" }
        #expect(records.map { $0["decision"] as? String } == ["allow"])
        #expect(records.first?["server"] as? String == "b")
    }
}

extension SessionCoreAuditTests {
    @Test func patternsThatMatchedNothingAreRecordedOnceTheServersStarted() throws {
        let persona = SessionCoreTests.twoServers.replacingOccurrences(
            of: #""allow": ["a__*", "b__read*"]"#, with: #""allow": ["a__*", "get_time", "zz__*"]"#)
        let harness = try CoreHarness(persona: persona)
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        let record = try #require(try harness.auditRecords().first { $0["event"] as? String == "session.tools" })
        #expect(record["unmatchedPatterns"] as? [String] == ["get_time", "zz__*"])
        #expect(record["visible"] as? Int == 1)
        #expect(record["offered"] as? Int == 2)
    }
}

/// The one teardown plan, on a fake clock.
@Suite struct TeardownTests {
    @Test func closesThenTerminatesThenKills() {
        var plan = Teardown(now: 0, grace: 2_000_000_000)
        #expect(plan.advance(now: 1_000_000_000, groupRemains: true) == .wait)
        #expect(plan.advance(now: 2_000_000_000, groupRemains: true) == .signal(SIGTERM))
        #expect(plan.advance(now: 3_000_000_000, groupRemains: true) == .wait)
        #expect(plan.advance(now: 4_000_000_000, groupRemains: true) == .signal(SIGKILL))
        #expect(plan.advance(now: 4_500_000_000, groupRemains: true) == .wait)
        #expect(plan.advance(now: 5_000_000_000, groupRemains: true) == .done)
    }

    @Test func stopsAsSoonAsTheGroupIsGone() {
        var plan = Teardown(now: 0, grace: 2_000_000_000)
        #expect(plan.advance(now: 100, groupRemains: false) == .done)
        #expect(plan.isDone)
    }

    @Test func aFailedServerIsTerminatedAtOnce() {
        var plan = Teardown(now: 5, grace: 2_000_000_000, skipGrace: true)
        #expect(plan.advance(now: 5, groupRemains: true) == .signal(SIGTERM))
    }
}
