import Foundation
import Testing

@testable import PersonaShim

/// Regressions found reviewing the multi round-trip paths: a state spent on other arguments, a server's question
/// that passes for the shim's, a question the client cannot take, and a legacy agent that never answers.
@Suite struct InputPathReviewTests {
    typealias Eras = SessionCoreEraTests
    let states = RequestStateTests()

    @Test func aStateIsBoundToTheArgumentsItWasIssuedFor() throws {
        var seal = RequestStateSeal(session: "s1")
        var binding = RequestStateTests.binding
        binding.arguments = "aa"
        let token = seal.seal("x", binding: binding, now: 0)
        var other = binding
        other.arguments = "bb"
        #expect(seal.open(token, binding: other, now: 1) == .failure(.otherRequest))
        #expect(seal.open(token, binding: binding, now: 1) == .success("x"))

        // Through the session: the same tool with other arguments is refused, and nothing reaches the server.
        let harness = try states.modernPair()
        harness.agent(
            Eras.request(
                2, "tools/call", params: #""name":"a__echo","arguments":{"path":"/tmp/a"}"#,
                meta: RequestStateTests.elicitationMeta))
        let first = try #require(harness.serverMessages(0).first?["id"] as? Int)
        states.askForInput(harness, answering: first)
        let stateToken = try #require(harness.agentMessages().first?.result?["requestState"] as? String)
        harness.agent(
            Eras.request(
                3, "tools/call",
                params: #""name":"a__echo","arguments":{"path":"/etc/shadow"},"requestState":"\#(stateToken)""#,
                meta: RequestStateTests.elicitationMeta))
        let refusal = try #require(harness.agentMessages().first?.result)
        #expect(refusal["isError"] as? Bool == true)
        #expect(
            ((refusal["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("another request") == true)
        #expect(harness.serverMessages(0).isEmpty)
        // The arguments it was issued for still open it.
        harness.agent(
            Eras.request(
                4, "tools/call",
                params: #""name":"a__echo","arguments":{"path":"/tmp/a"},"requestState":"\#(stateToken)""#,
                meta: RequestStateTests.elicitationMeta))
        let retry = try #require(harness.serverMessages(0).first)
        #expect((retry["params"] as? [String: Any])?["requestState"] as? String == "server-secret-1")
    }

    @Test func anEscapedOrRepeatedRequestStateKeyCannotSlipPastTheSeal() throws {
        let harness = try states.modernPair()
        let first = try states.call(harness, id: 2, tool: "a__echo")
        states.askForInput(harness, answering: first)
        let token = try #require(harness.agentMessages().first?.result?["requestState"] as? String)
        // A server's reader decodes both to requestState; the shim must not pass either on unsealed.
        for (id, extra) in [
            (3, #","request\u0053tate":"server-secret-1""#),
            (4, #","requestState":"\#(token)","requestState":"server-secret-1""#),
        ] {
            harness.agent(
                Eras.request(
                    id, "tools/call", params: #""name":"a__echo","arguments":{}\#(extra)"#,
                    meta: RequestStateTests.elicitationMeta))
        }
        let refusals = harness.agentMessages()
        // Refused by the seal (a tool error) or already as malformed params (a JSON-RPC error): never forwarded.
        #expect(refusals.count == 2, "\(refusals)")
        #expect(refusals.allSatisfy { $0.result?["isError"] as? Bool == true || $0.errorCode != nil }, "\(refusals)")
        #expect(harness.serverMessages(0).isEmpty)
        // A backslash elsewhere changes nothing.
        harness.agent(
            Eras.request(
                5, "tools/call", params: #""name":"a__echo","arguments":{"path":"C:\\x"}"#,
                meta: RequestStateTests.elicitationMeta))
        #expect(harness.serverMessages(0).count == 1)
    }

    @Test func aLegacyAgentCannotHandAModernServerAState() throws {
        let harness = try LegacyAgentInputTests().legacyPair()
        harness.agent(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo","arguments":{},"requestState":"forged"}}"#
        )
        #expect(harness.agentMessages().first?.result?["isError"] as? Bool == true)
        #expect(harness.serverMessages(0).isEmpty)
    }

    @Test func aServersQuestionToAModernAgentSaysWhichServerAsks() throws {
        let harness = try states.modernPair()
        let first = try states.call(harness, id: 2, tool: "a__echo")
        states.askForInput(harness, answering: first)
        let interim = try #require(harness.agentMessages().first?.result)
        let who = (interim["inputRequests"] as? [String: Any])?["who"] as? [String: Any]
        let message = (who?["params"] as? [String: Any])?["message"] as? String
        #expect(message == #"[server "a" asks] Who?"#)
    }

    @Test func aURLElicitationTheRequestCannotTakeIsRefused() throws {
        let harness = try states.modernPair()
        // The request declared form-mode elicitation only.
        let first = try states.call(harness, id: 2, tool: "a__echo")
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(first),"result":{"resultType":"input_required","inputRequests":{"login":{"method":"elicitation/create","params":{"mode":"url","message":"Log in","url":"https://example.com/login","elicitationId":"e1"}}},"requestState":"s"}}"#
        )
        let refusal = try #require(harness.agentMessages().first?.result)
        #expect(refusal["isError"] as? Bool == true && refusal["inputRequests"] == nil)
        #expect(
            ((refusal["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("URL-mode") == true)
        let outcomes = try harness.auditRecords().filter { $0["event"] as? String == "call.outcome" }
        #expect(outcomes.last?["outcome"] as? String == "input_refused")
    }

    @Test func aLegacyAgentThatNeverAnswersGetsATimeoutAndIsToldToStopAsking() throws {
        let harness = try LegacyAgentInputTests().legacyPair()
        harness.agent(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let id = try #require(harness.serverMessages(0).first?["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{"message":"?"}}},"requestState":"s"}}"#
        )
        let asked = try #require(harness.agentMessages().first?["id"] as? Int)
        #expect(harness.core.nextDeadline() != nil, "the question has a deadline")
        harness.advance(seconds: 1)
        #expect(harness.agentMessages().isEmpty, "not before its deadline")
        harness.advance(seconds: 10)
        let messages = harness.agentMessages()
        let cancel = try #require(messages.first { $0["method"] as? String == "notifications/cancelled" })
        #expect((cancel["params"] as? [String: Any])?["requestId"] as? Int == asked)
        let answer = try #require(messages.first { $0["id"] as? Int == 7 })
        #expect(answer.errorCode == -32001)
        #expect(messages.count == 2, "one answer for the request, one cancellation for the question")
        // A late answer to the question retries nothing and answers nothing again.
        harness.agent(#"{"jsonrpc":"2.0","id":\#(asked),"result":{"action":"accept","content":{}}}"#)
        #expect(harness.serverMessages(0).isEmpty && harness.agentMessages().isEmpty)
        let outcomes = try harness.auditRecords().filter { $0["event"] as? String == "call.outcome" }
        #expect(outcomes.map { $0["outcome"] as? String } == ["timeout"])
    }
}
