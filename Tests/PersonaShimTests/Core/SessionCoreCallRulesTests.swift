import Foundation
import Testing

@testable import PersonaShim

/// The per-call rules in the core's request path, in-process on a fake clock.
@Suite struct SessionCoreCallRulesTests {
    static func persona(mode: String = "enforce", extra: String) -> String {
        """
        {"persona": "rules-test", "purpose": "Tests call rules.", "owner": "t@example.com", "reviewBy": "2030-01-01",
         "mode": "\(mode)", "servers": {"a": {"command": "a-server"}, "b": {"command": "b-server"}},
         "tools": {"allow": ["a__*", "b__*"]}, \(extra)}
        """
    }

    func ready(_ persona: String) throws -> CoreHarness {
        let harness = try CoreHarness(persona: persona)
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["refund", "echo"])
        try harness.bringUp(1, tools: ["post"])
        _ = harness.agentMessages()
        return harness
    }

    func call(_ id: Int, _ tool: String, _ arguments: String = "{}") -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#
    }

    @Test func pipelinedCallsCannotOvershootALimit() throws {
        let harness = try ready(
            Self.persona(extra: #""limits": [{"id": "ten", "tools": ["a__echo"], "calls": 10, "per": "1h"}]"#))
        // 200 calls judged in one read, before any is written: exactly 10 go out.
        for id in 1...200 { harness.agent(call(id, "a__echo", #"{"n":\#(id)}"#)) }
        let forwarded = harness.serverMessages(0).filter { $0["method"] as? String == "tools/call" }
        #expect(forwarded.count == 10)
        let refusals = harness.agentMessages()
        #expect(refusals.count == 190)
        #expect(refusals.allSatisfy { $0.result?["isError"] as? Bool == true })
        let text = ((refusals.first?.result?["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        #expect(text.contains(#"Limit "ten""#) && text.contains("rule limits.ten"))
        // An hour later the window has moved on.
        harness.advance(seconds: 3601)
        harness.agent(call(201, "a__echo"))
        #expect(harness.serverMessages(0).filter { $0["method"] as? String == "tools/call" }.count == 1)
    }

    @Test func anArgumentRuleDecidesOnTheExactNumberForwarded() throws {
        let harness = try ready(
            Self.persona(
                extra:
                    #""rules": [{"id": "small-refunds", "tools": ["a__refund"], "require": {"/amount": {"type": "number", "maximum": 100}}}]"#
            ))
        harness.agent(call(1, "a__refund", #"{"amount":100.00000000000001}"#))
        harness.agent(call(2, "a__refund", #"{"amount":"100"}"#))
        harness.agent(call(3, "a__refund", #"{"amount":1e2}"#))
        let forwarded = harness.serverMessages(0).filter { $0["method"] as? String == "tools/call" }
        #expect(forwarded.count == 1)
        let refusals = harness.agentMessages()
        #expect(refusals.map { $0["id"] as? Int } == [1, 2])
        let decisions = try harness.auditRecords().filter { $0["event"] as? String == "call.decision" }
        #expect(decisions.map { $0["rule"] as? String } == ["small-refunds", "small-refunds", #"tools.allow["a__*"]"#])
    }

    @Test func monitorModeRecordsTheRefusalAndLetsTheCallThrough() throws {
        let harness = try ready(
            Self.persona(
                mode: "monitor",
                extra: #""rules": [{"id": "no-refunds", "tools": ["a__refund"], "when": {"/amount": {"minimum": 0}}}]"#)
        )
        harness.agent(call(1, "a__refund", #"{"amount":5}"#))
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") != nil)
        #expect(harness.agentMessages().isEmpty, "no refusal in monitor mode")
        let decision = try #require(try harness.auditRecords().first { $0["event"] as? String == "call.decision" })
        #expect(decision["decision"] as? String == "deny")
        #expect(decision["enforced"] as? Bool == false)
        #expect(decision["rule"] as? String == "no-refunds")
        // Hidden tools stay hidden in monitor mode.
        harness.agent(call(2, "c__anything"))
        #expect(harness.agentMessages().first?.errorCode == -32602)
    }

    @Test func probingForHiddenToolsIsDriftAndEndsTheSession() throws {
        let harness = try ready(Self.persona(extra: #""behaviour": {"probes": 2}"#))
        for id in 1...3 { harness.agent(call(id, "a__secret_\(id)")) }
        let drift = try harness.auditRecords().filter { $0["event"] as? String == "drift" }
        #expect(drift.map { $0["drift"] as? String } == ["probes"])
        _ = harness.agentMessages()
        harness.agent(call(9, "a__echo"))
        #expect(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call") == nil)
        let refusal = try #require(harness.agentMessages().first)
        #expect(refusal.result?["isError"] as? Bool == true)
    }

    @Test func aFlowRuleRefusesEgressAfterPrivateDataAndSaysWhatTainted() throws {
        let harness = try ready(
            Self.persona(extra: #""labels": {"servers": {"a": ["private-data"], "b": ["egress"]}}"#))
        harness.agent(call(1, "b__post"))
        #expect(CoreHarness.id(of: harness.serverMessages(1), method: "tools/call") != nil, "nothing tainted yet")
        harness.agent(call(2, "a__echo"))
        harness.agent(call(3, "b__post"))
        #expect(harness.serverMessages(1).isEmpty)
        let refusal = try #require(try harness.auditRecords().last { $0["event"] as? String == "call.decision" })
        #expect(refusal["decision"] as? String == "deny")
        #expect(refusal["taint"] as? [String] == ["private-data:a__echo"])
    }
}
