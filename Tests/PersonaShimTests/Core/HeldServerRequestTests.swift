import Foundation
import Testing

@testable import PersonaShim

/// A legacy server's own questions (elicitation, sampling, roots) reaching a modern agent as `input_required`: held
/// in the shim under a sealed ticket, released by the agent's retry, refused when they cannot be attributed or the
/// agent never retries.
@Suite struct HeldServerRequestTests {
    typealias Eras = SessionCoreEraTests
    static let meta = RequestStateTests.elicitationMeta

    /// A modern agent over two legacy servers.
    func modernOverLegacy(persona: String = RequestStateTests.persona) throws -> CoreHarness {
        let harness = try CoreHarness(persona: persona)
        harness.agent(Eras.request(1, "tools/list"))
        _ = harness.core.takeActions()
        try harness.bringUp(0, tools: ["echo", "other"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    func call(_ harness: CoreHarness, id: Int, tool: String = "a__echo", extra: String = "") throws -> Int {
        harness.agent(
            Eras.request(id, "tools/call", params: #""name":"\#(tool)","arguments":{"n":1}\#(extra)"#, meta: Self.meta))
        return try #require(harness.serverMessages(0).first { $0["method"] as? String == "tools/call" }?["id"] as? Int)
    }

    static let elicitation =
        #"{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"message":"Who?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}}"#

    /// The agent's interim answer: its question's key and the sealed ticket.
    func question(_ harness: CoreHarness, answering id: Int) throws -> (key: String, token: String) {
        let answer = try #require(harness.agentMessages().first)
        #expect(answer["id"] as? Int == id)
        let result = try #require(answer.result)
        #expect(result["resultType"] as? String == "input_required")
        let inputs = try #require(result["inputRequests"] as? [String: Any])
        #expect(inputs.count == 1)
        let (key, value) = try #require(inputs.first)
        let asked = try #require(value as? [String: Any])
        #expect(asked["method"] as? String == "elicitation/create")
        #expect((asked["params"] as? [String: Any])?["message"] as? String == #"[server "a" asks] Who?"#)
        let token = try #require(result["requestState"] as? String)
        #expect(token.hasPrefix("ps1."))
        return (key, token)
    }

    @Test func aLegacyServersElicitationReachesAModernAgentAndTheRetryCarriesTheAnswer() throws {
        let harness = try modernOverLegacy()
        let forwarded = try call(harness, id: 2)
        harness.server(0, Self.elicitation)
        let (key, token) = try question(harness, answering: 2)
        #expect(harness.serverMessages(0).isEmpty, "the server's question waits for the agent")
        let retry =
            #","inputResponses":{"\#(key)":{"action":"accept","content":{"name":"octocat"}}},"requestState":"\#(token)""#
        harness.agent(
            Eras.request(3, "tools/call", params: #""name":"a__echo","arguments":{"n":1}\#(retry)"#, meta: Self.meta))
        let toServer = harness.serverMessages(0)
        #expect(toServer.count == 1, "the answer, and no second call")
        #expect(toServer.first?["id"] as? String == "e1")
        #expect((toServer.first?.result?["content"] as? [String: Any])?["name"] as? String == "octocat")
        // The server finishes the original call: the retry gets the result.
        harness.server(
            0, #"{"jsonrpc":"2.0","id":\#(forwarded),"result":{"content":[{"type":"text","text":"hi octocat"}]}}"#)
        let final = try #require(harness.agentMessages().first)
        #expect(final["id"] as? Int == 3)
        #expect(final.result?["resultType"] as? String == "complete")
        #expect((final.result?["content"] as? [[String: Any]])?.first?["text"] as? String == "hi octocat")
        let records = try harness.auditRecords()
        #expect(
            records.filter { $0["event"] as? String == "server.request" }.map { $0["decision"] as? String } == ["allow"]
        )
        let outcomes = records.filter { $0["event"] as? String == "call.outcome" }.map { $0["outcome"] as? String }
        #expect(outcomes == ["input_required", "ok"])
        let decisions = records.filter { $0["event"] as? String == "call.decision" }.map { $0["rule"] as? String }
        #expect(decisions.count == 2 && decisions.last == "requestState")
        // The ticket is spent: the same retry again is refused and nothing reaches the server.
        harness.agent(
            Eras.request(4, "tools/call", params: #""name":"a__echo","arguments":{"n":1}\#(retry)"#, meta: Self.meta))
        #expect(harness.agentMessages().first?.result?["isError"] as? Bool == true)
        #expect(harness.serverMessages(0).isEmpty)
    }

    @Test func theTicketOpensOnlyForItsToolAndArguments() throws {
        let harness = try modernOverLegacy()
        _ = try call(harness, id: 2)
        harness.server(0, Self.elicitation)
        let (key, token) = try question(harness, answering: 2)
        let answers = #""inputResponses":{"\#(key)":{"action":"decline"}},"requestState":"\#(token)""#
        harness.agent(
            Eras.request(
                3, "tools/call", params: #""name":"a__other","arguments":{"n":1},\#(answers)"#, meta: Self.meta))
        harness.agent(
            Eras.request(4, "tools/call", params: #""name":"a__echo","arguments":{"n":2},\#(answers)"#, meta: Self.meta)
        )
        let refusals = harness.agentMessages()
        #expect(refusals.count == 2 && refusals.allSatisfy { $0.result?["isError"] as? Bool == true })
        #expect(harness.serverMessages(0).isEmpty)
        // Still good for the request it was issued for.
        harness.agent(
            Eras.request(5, "tools/call", params: #""name":"a__echo","arguments":{"n":1},\#(answers)"#, meta: Self.meta)
        )
        #expect(harness.serverMessages(0).first?.result?["action"] as? String == "decline")
    }

    @Test func aQuestionThatCannotBeAttributedIsRefused() throws {
        let harness = try modernOverLegacy()
        // Nothing in progress on the server.
        harness.server(0, Self.elicitation)
        #expect(harness.serverMessages(0).first?["id"] as? String == "e1")
        // Two calls in progress: which one asks cannot be told.
        _ = try call(harness, id: 2)
        _ = try call(harness, id: 3)
        harness.server(0, Self.elicitation)
        let refusal = try #require(harness.serverMessages(0).first)
        #expect(refusal["id"] as? String == "e1" && refusal.errorCode == -32000)
        #expect(
            ((refusal["error"] as? [String: Any])?["message"] as? String)?.contains("could not tell which") == true)
        #expect(harness.agentMessages().isEmpty, "both calls still wait for the server")
        let denials = try harness.auditRecords().filter {
            $0["event"] as? String == "server.request" && $0["decision"] as? String == "deny"
        }
        #expect(denials.count == 2)
    }

    @Test func aSecondQuestionWhileOneWaitsForTheRetryIsRefused() throws {
        let harness = try modernOverLegacy()
        _ = try call(harness, id: 2)
        harness.server(0, Self.elicitation)
        _ = try question(harness, answering: 2)
        // Another call starts; the server asks again: for the waiting call or the new one cannot be told.
        _ = try call(harness, id: 3)
        harness.server(0, Self.elicitation.replacingOccurrences(of: #""e1""#, with: #""e2""#))
        let refusal = try #require(harness.serverMessages(0).first)
        #expect(refusal["id"] as? String == "e2" && refusal.errorCode == -32000)
        #expect(harness.agentMessages().isEmpty, "call 3 still waits for the server")
    }

    @Test func anAgentThatNeverRetriesLeavesTheServerAnError() throws {
        let harness = try modernOverLegacy()
        let forwarded = try call(harness, id: 2)
        harness.server(0, Self.elicitation)
        _ = try question(harness, answering: 2)
        harness.advance(seconds: 1)
        #expect(harness.serverMessages(0).isEmpty, "not before the deadline")
        harness.advance(seconds: 10)
        let refusal = try #require(harness.serverMessages(0).first)
        #expect(refusal["id"] as? String == "e1" && refusal.errorCode == -32001)
        // The server's answer to the original call has nobody left to go to.
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(forwarded),"result":{"content":[],"isError":true}}"#)
        #expect(harness.agentMessages().isEmpty)
        let outcomes = try harness.auditRecords().filter { $0["event"] as? String == "call.outcome" }
        #expect(outcomes.map { $0["outcome"] as? String } == ["input_required", "input_abandoned"])
    }

    @Test func theServerRequestsRulesAndTheRequestsCapabilitiesApply() throws {
        let closed = try modernOverLegacy(
            persona: SessionCoreTests.twoServers.replacingOccurrences(
                of: #""timeouts""#, with: #""serverRequests": {"elicitation": false}, "timeouts""#))
        _ = try call(closed, id: 2)
        closed.server(0, Self.elicitation)
        #expect(closed.serverMessages(0).first?.errorCode == -32000)
        #expect(closed.agentMessages().isEmpty)
        // Allowed, but this request did not declare elicitation.
        let harness = try modernOverLegacy()
        harness.agent(Eras.request(2, "tools/call", params: #""name":"a__echo","arguments":{}"#))
        _ = harness.serverMessages(0)
        harness.server(0, Self.elicitation)
        #expect(harness.serverMessages(0).first?.errorCode == -32601)
        #expect(harness.agentMessages().isEmpty)
    }
}
