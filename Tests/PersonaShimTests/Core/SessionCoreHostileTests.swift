import Foundation
import Testing

@testable import PersonaShim

/// Hostile and malformed traffic, in-process: every request still gets exactly one well-formed answer.
@Suite struct SessionCoreHostileTests {
    static let persona = SessionCoreTests.twoServers.replacingOccurrences(
        of: #""timeouts""#, with: #""serverRequests": {"sampling": true, "elicitation": true}, "timeouts""#)

    func ready(capabilities: String = "{}") throws -> CoreHarness {
        let harness = try CoreHarness(persona: Self.persona)
        _ = harness.initializeAgent(capabilities: capabilities)
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    func callID(_ harness: CoreHarness, _ agentID: Int = 1) throws -> Int {
        harness.agent(
            #"{"jsonrpc":"2.0","id":\#(agentID),"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        return try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/call"))
    }

    @Test func aRequestThatAlsoCarriesAResultIsRefused() throws {
        let harness = try ready()
        harness.agent(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo","arguments":{}},"result":{}}"#)
        harness.agent(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a__echo"},"error":{}}"#)
        #expect(harness.agentMessages().map(\.errorCode) == [-32600, -32600])
        #expect(harness.serverMessages(0).isEmpty)
    }

    @Test(arguments: [
        #"{"id":ID,"result":{"content":[]}}"#,
        #"{"jsonrpc":"1.0","id":ID,"result":{"content":[]}}"#,
        #"{"jsonrpc":"2.0","id":ID,"result":{},"error":{"code":1,"message":"x"}}"#,
        #"{"jsonrpc":"2.0","id":ID,"error":{"code":"oops","message":5}}"#,
        #"{"jsonrpc":"2.0","id":ID,"error":{"code":-32000}}"#,
        #"{"jsonrpc":"2.0","id":ID,"result":{"content":[{"type":"text","text":"unterminated}]}}"#,
    ])
    func aMalformedAnswerBecomesOneWellFormedError(_ answer: String) throws {
        let harness = try ready()
        let id = try callID(harness, 7)
        harness.server(0, answer.replacingOccurrences(of: "ID", with: String(id)))
        let answers = harness.agentMessages()
        #expect(answers.count == 1)
        #expect(answers.first?["id"] as? Int == 7)
        #expect(answers.first?.errorCode == JSONRPCError.internalError)
        let message = (answers.first?["error"] as? [String: Any])?["message"] as? String
        #expect(message?.hasPrefix("The server a sent a malformed answer to a__echo") == true)
        // The late well-formed answer reaches nobody: one answer per request.
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[]}}"#)
        #expect(harness.agentMessages().isEmpty)
        let outcomes = try harness.auditRecords().filter { $0["event"] as? String == "call.outcome" }
        #expect(outcomes.map { $0["outcome"] as? String } == ["malformed_response"])
    }

    @Test func anAnswerOverTheLimitFailsItsRequestAtOnce() throws {
        let harness = try ready()
        let id = try callID(harness, 3)
        let prefix = Array(#"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[{"type":"text","text":"xxxx"#.utf8)
        harness.core.serverLineTooLong(0, bytes: 300_000_000, prefix: prefix)
        let answer = try #require(harness.agentMessages().first)
        #expect(answer["id"] as? Int == 3)
        #expect(answer.errorCode == JSONRPCError.internalError)
        #expect(harness.core.takeActions().isEmpty)
    }

    @Test func anOversizedLineWithoutAReadableIdRestartsTheServer() throws {
        let harness = try ready()
        _ = try callID(harness, 3)
        harness.core.serverLineTooLong(0, bytes: 300_000_000, prefix: Array(#"{"jsonrpc":"2.0","result":"#.utf8))
        #expect(harness.agentMessages().first?["id"] as? Int == 3)
        #expect(harness.core.takeActions() == [.stop(server: 0)])
        harness.advance(seconds: 1.1)
        #expect(harness.core.takeActions() == [.restart(server: 0)])
    }

    @Test func listChangesAreCoalescedToOneListingInFlight() throws {
        let harness = try ready()
        for _ in 0..<500 { harness.server(0, #"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#) }
        let listings = harness.serverMessages(0).filter { $0["method"] as? String == "tools/list" }
        #expect(listings.count == 1)
        let id = try #require(listings.first?["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{"tools":[{"name":"echo","inputSchema":{}}]}}"#)
        // The changes that came meanwhile make exactly one more listing.
        #expect(harness.serverMessages(0).filter { $0["method"] as? String == "tools/list" }.count == 1)
    }

    @Test func notificationsOverTheBoundAreDroppedAndTheBoundRefills() throws {
        let harness = try ready()
        let log = #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}"#
        for _ in 0..<1500 { harness.server(0, log) }
        #expect(harness.agentMessages().count == 1000)
        harness.core.now += 1_000_000_000
        for _ in 0..<1000 { harness.server(0, log) }
        #expect(harness.agentMessages().count == 500)
        // The other server's budget is its own.
        harness.server(1, log)
        #expect(harness.agentMessages().count == 1)
    }

    @Test func elicitationsSayWhichServerAsksAndURLModeNeedsTheClientsWord() throws {
        let harness = try ready(capabilities: #"{"elicitation":{}}"#)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":5,"method":"elicitation/create","params":{"message":"I am persona-shim, approve?","requestedSchema":{"type":"object","properties":{}}}}"#
        )
        let relayed = try #require(harness.agentMessages().first)
        let message = (relayed["params"] as? [String: Any])?["message"] as? String
        #expect(message == #"[server "a" asks] I am persona-shim, approve?"#)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":6,"method":"elicitation/create","params":{"mode":"url","message":"m","url":"https://x.example","elicitationId":"e1"}}"#
        )
        #expect(harness.agentMessages().isEmpty, "the client declared form mode only")
        #expect(harness.serverMessages(0).last?.errorCode == JSONRPCError.invalidParams)
    }

    @Test func urlElicitationCompletionsFollowOnlyTheirOwnServer() throws {
        let harness = try ready(capabilities: #"{"elicitation":{"form":{},"url":{}}}"#)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":6,"method":"elicitation/create","params":{"mode":"url","message":"m","url":"https://x.example","elicitationId":"e1"}}"#
        )
        #expect(harness.agentMessages().count == 1)
        let complete =
            #"{"jsonrpc":"2.0","method":"notifications/elicitation/complete","params":{"elicitationId":"e1"}}"#
        harness.server(1, complete)
        #expect(harness.agentMessages().isEmpty, "server b did not start e1")
        harness.server(0, complete)
        let forwarded = try #require(harness.agentMessages().first)
        #expect(forwarded["method"] as? String == "notifications/elicitation/complete")
        harness.server(0, complete)
        #expect(harness.agentMessages().isEmpty, "a completion is passed on once")
    }

    @Test func samplingWithToolsNeedsTheClientToDeclareIt() throws {
        let harness = try ready(capabilities: #"{"sampling":{}}"#)
        harness.server(
            1,
            #"{"jsonrpc":"2.0","id":"s","method":"sampling/createMessage","params":{"messages":[],"maxTokens":5,"tools":[{"name":"t","inputSchema":{}}]}}"#
        )
        #expect(harness.agentMessages().isEmpty)
        let refusal = try #require(harness.serverMessages(1).last)
        #expect(refusal["id"] as? String == "s")
        #expect(refusal.errorCode == JSONRPCError.invalidParams)
    }
}
