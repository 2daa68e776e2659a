import Foundation
import Testing

@testable import PersonaShim

/// The shim's protection of a multi round-trip request's `requestState`: the seal alone, then the whole path
/// between a modern agent and a modern server.
@Suite struct RequestStateTests {
    typealias Eras = SessionCoreEraTests
    static let binding = RequestStateSeal.Binding(server: "a", method: "tools/call", name: "a__echo")

    @Test func aSealedStateOpensOnceForItsServerAndRequest() {
        var seal = RequestStateSeal(session: "s1")
        let token = seal.seal("server-state", binding: Self.binding, now: 0)
        #expect(!token.contains("server-state"))
        #expect(seal.open(token, binding: Self.binding, now: 1) == .success("server-state"))
        #expect(seal.open(token, binding: Self.binding, now: 2) == .failure(.replayed))
    }

    @Test func aTamperedOrForeignStateIsForged() {
        var seal = RequestStateSeal(session: "s1")
        let token = seal.seal("x", binding: Self.binding, now: 0)
        var bytes = Array(token.utf8)
        bytes[10] = bytes[10] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(seal.open(String(decoding: bytes, as: UTF8.self), binding: Self.binding, now: 1) == .failure(.forged))
        #expect(seal.open("server-state", binding: Self.binding, now: 1) == .failure(.forged))
        // Another session's key: a state issued elsewhere is forged here.
        var other = RequestStateSeal(session: "s2")
        let foreign = other.seal("x", binding: Self.binding, now: 0)
        #expect(seal.open(foreign, binding: Self.binding, now: 1) == .failure(.forged))
        // The untouched token still opens.
        #expect(seal.open(token, binding: Self.binding, now: 1) == .success("x"))
    }

    @Test func anExpiredStateIsRefused() {
        var seal = RequestStateSeal(session: "s1")
        let token = seal.seal("x", binding: Self.binding, now: 0)
        #expect(seal.open(token, binding: Self.binding, now: RequestStateSeal.lifetime) == .failure(.expired))
    }

    @Test func aStateTakenToAnotherServerOrRequestIsRefused() {
        var seal = RequestStateSeal(session: "s1")
        let token = seal.seal("x", binding: Self.binding, now: 0)
        var elsewhere = Self.binding
        elsewhere.server = "b"
        #expect(seal.open(token, binding: elsewhere, now: 1) == .failure(.otherServer))
        var otherTool = Self.binding
        otherTool.name = "a__other"
        #expect(seal.open(token, binding: otherTool, now: 1) == .failure(.otherRequest))
        #expect(seal.open(token, binding: Self.binding, now: 1) == .success("x"), "a refused retry does not use it up")
    }

    // MARK: Through the session

    static let persona = SessionCoreTests.twoServers.replacingOccurrences(
        of: #""timeouts""#, with: #""serverRequests": {"elicitation": true}, "timeouts""#)

    func modernPair(persona: String = RequestStateTests.persona) throws -> CoreHarness {
        let harness = try CoreHarness(persona: persona)
        harness.agent(Eras.request(1, "tools/list"))
        _ = harness.core.takeActions()
        try harness.bringUpModern(0, tools: ["echo", "other"])
        try harness.bringUpModern(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    static let elicitationMeta = Eras.meta(capabilities: #"{"elicitation":{"form":{}}}"#)

    func call(_ harness: CoreHarness, id: Int, tool: String, extra: String = "", server: Int = 0) throws -> Int {
        harness.agent(
            Eras.request(
                id, "tools/call", params: #""name":"\#(tool)","arguments":{}\#(extra)"#, meta: Self.elicitationMeta))
        let sent = try #require(harness.serverMessages(server).first)
        return try #require(sent["id"] as? Int)
    }

    func askForInput(_ harness: CoreHarness, answering id: Int, server: Int = 0) {
        harness.server(
            server,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"who":{"method":"elicitation/create","params":{"message":"Who?","requestedSchema":{"type":"object"}}}},"requestState":"server-secret-1"}}"#
        )
    }

    @Test func inputRequiredReachesAModernAgentSealedAndTheRetryGetsTheServersState() throws {
        let harness = try modernPair()
        let first = try call(harness, id: 2, tool: "a__echo")
        askForInput(harness, answering: first)
        let interim = try #require(harness.agentMessages().first?.result)
        #expect(interim["resultType"] as? String == "input_required")
        #expect(interim["inputRequests"] != nil)
        let token = try #require(interim["requestState"] as? String)
        #expect(token.hasPrefix("ps1.") && !token.contains("server-secret"))
        let records = try harness.auditRecords()
        #expect(records.contains { $0["event"] as? String == "server.request" && $0["decision"] as? String == "allow" })
        // The retry carries the answers and the sealed state; the server gets its own state back.
        let retry = #","inputResponses":{"who":{"action":"accept","content":{"name":"x"}}},"requestState":"\#(token)""#
        _ = try call(harness, id: 3, tool: "a__echo", extra: retry)
        // Replayed: refused, and nothing reaches the server.
        harness.agent(
            Eras.request(
                5, "tools/call", params: #""name":"a__echo","arguments":{}\#(retry)"#, meta: Self.elicitationMeta))
        let replay = try #require(harness.agentMessages().first?.result)
        #expect(replay["isError"] as? Bool == true)
        #expect(harness.serverMessages(0).isEmpty)
    }

    @Test func theServerGetsItsOwnStateOnTheRetry() throws {
        let harness = try modernPair()
        let first = try call(harness, id: 2, tool: "a__echo")
        askForInput(harness, answering: first)
        let token = try #require(harness.agentMessages().first?.result?["requestState"] as? String)
        harness.agent(
            Eras.request(
                3, "tools/call", params: #""name":"a__echo","arguments":{},"requestState":"\#(token)""#,
                meta: Self.elicitationMeta))
        let sent = try #require(harness.serverMessages(0).first)
        #expect((sent["params"] as? [String: Any])?["requestState"] as? String == "server-secret-1")
        let meta = (sent["params"] as? [String: Any])?["_meta"] as? [String: Any]
        let declared = meta?["io.modelcontextprotocol/clientCapabilities"] as? [String: Any]
        #expect(declared?["elicitation"] != nil, "the persona lets servers ask, and the agent can answer")
    }

    @Test func aStateTakenToAnotherServerOrToolIsRefused() throws {
        let harness = try modernPair()
        let first = try call(harness, id: 2, tool: "a__echo")
        askForInput(harness, answering: first)
        let token = try #require(harness.agentMessages().first?.result?["requestState"] as? String)
        for (id, tool) in [(3, "b__read"), (4, "a__other")] {
            harness.agent(
                Eras.request(
                    id, "tools/call", params: #""name":"\#(tool)","arguments":{},"requestState":"\#(token)""#,
                    meta: Self.elicitationMeta))
        }
        let refusals = harness.agentMessages().compactMap { $0.result?["content"] as? [[String: Any]] }
        #expect(refusals.count == 2)
        #expect((refusals.first?.first?["text"] as? String)?.contains("another server") == true)
        #expect((refusals.last?.first?["text"] as? String)?.contains("another request") == true)
        #expect(harness.serverMessages(0).isEmpty && harness.serverMessages(1).isEmpty)
        let denials = try harness.auditRecords().filter { $0["rule"] as? String == "requestState" }
        #expect(denials.count == 2)
    }

    @Test func aForgedOrExpiredStateIsRefused() throws {
        let harness = try modernPair()
        let first = try call(harness, id: 2, tool: "a__echo")
        askForInput(harness, answering: first)
        let token = try #require(harness.agentMessages().first?.result?["requestState"] as? String)
        harness.agent(
            Eras.request(
                3, "tools/call", params: #""name":"a__echo","arguments":{},"requestState":"server-secret-1""#,
                meta: Self.elicitationMeta))
        harness.advance(seconds: Double(RequestStateSeal.lifetime) / 1e9 + 1)
        harness.agent(
            Eras.request(
                4, "tools/call", params: #""name":"a__echo","arguments":{},"requestState":"\#(token)""#,
                meta: Self.elicitationMeta))
        let texts = harness.agentMessages().compactMap {
            ($0.result?["content"] as? [[String: Any]])?.first?["text"] as? String
        }
        #expect(texts.count == 2)
        #expect(texts.first?.contains("forged") == true)
        #expect(texts.last?.contains("expired") == true)
        #expect(harness.serverMessages(0).isEmpty)
    }

    @Test func theServerRequestsRulesApplyAndAMissingCapabilityIsSaid() throws {
        // The persona does not let servers ask: refused and audited.
        let closed = try modernPair(
            persona: SessionCoreTests.twoServers.replacingOccurrences(
                of: #""timeouts""#, with: #""serverRequests": {"elicitation": false}, "timeouts""#))
        let id = try call(closed, id: 2, tool: "a__echo")
        askForInput(closed, answering: id)
        let refusal = try #require(closed.agentMessages().first?.result)
        #expect(refusal["isError"] as? Bool == true && refusal["requestState"] == nil)
        #expect(
            try closed.auditRecords().contains {
                $0["event"] as? String == "server.request" && $0["decision"] as? String == "deny"
            })
        // Allowed, but this request did not declare elicitation: -32021 naming it.
        let harness = try modernPair()
        harness.agent(Eras.request(2, "tools/call", params: #""name":"a__echo","arguments":{}"#))
        let sent = try #require(harness.serverMessages(0).first?["id"] as? Int)
        askForInput(harness, answering: sent)
        let answer = try #require(harness.agentMessages().first)
        #expect(answer.errorCode == -32021)
        let data = (answer["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect((data?["requiredCapabilities"] as? [String: Any])?["elicitation"] != nil)
    }
}

/// A legacy agent over a modern server that needs input: the old requests on the agent's side, the retry on the
/// server's, and the server's state never shown to the agent.
@Suite struct LegacyAgentInputTests {
    func legacyPair(capabilities: String = #"{"elicitation":{}}"#) throws -> CoreHarness {
        let harness = try CoreHarness(persona: RequestStateTests.persona)
        _ = harness.initializeAgent(capabilities: capabilities)
        try harness.bringUpModern(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    @Test func anInputRequiredBecomesAnElicitationAndTheAnswerARetry() throws {
        let harness = try legacyPair()
        harness.agent(
            #"{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"a__echo","arguments":{"x":1}}}"#)
        let first = try #require(harness.serverMessages(0).first)
        let meta = (first["params"] as? [String: Any])?["_meta"] as? [String: Any]
        let declared = meta?["io.modelcontextprotocol/clientCapabilities"] as? [String: Any]
        #expect(declared?["elicitation"] != nil, "the server is told what the legacy agent can answer")
        let id = try #require(first["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"who":{"method":"elicitation/create","params":{"message":"Who?","requestedSchema":{"type":"object"}}}},"requestState":"server-secret-1"}}"#
        )
        let asked = try #require(harness.agentMessages().first)
        #expect(asked["method"] as? String == "elicitation/create")
        #expect(((asked["params"] as? [String: Any])?["message"] as? String)?.hasPrefix(#"[server "a" asks]"#) == true)
        #expect(!"\(asked)".contains("server-secret"))
        let askedID = try #require(asked["id"] as? Int)
        harness.agent(#"{"jsonrpc":"2.0","id":\#(askedID),"result":{"action":"accept","content":{"name":"x"}}}"#)
        let retry = try #require(harness.serverMessages(0).first)
        let params = try #require(retry["params"] as? [String: Any])
        #expect(retry["method"] as? String == "tools/call" && params["name"] as? String == "echo")
        #expect(params["requestState"] as? String == "server-secret-1")
        #expect(
            ((params["inputResponses"] as? [String: Any])?["who"] as? [String: Any])?["action"] as? String == "accept")
        #expect((params["arguments"] as? [String: Any])?["x"] as? Int == 1)
        let retryID = try #require(retry["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(retryID),"result":{"resultType":"complete","content":[]}}"#)
        let answer = try #require(harness.agentMessages().first)
        #expect(answer["id"] as? String == "c1" && answer.result != nil)
        let records = try harness.auditRecords()
        #expect(
            records.filter { $0["event"] as? String == "server.request" }.map { $0["decision"] as? String } == ["allow"]
        )
        #expect(records.filter { $0["event"] as? String == "call.decision" }.count == 1, "one call, one decision")
    }

    @Test func aCancelledRequestIsNotRetried() throws {
        let harness = try legacyPair()
        harness.agent(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let id = try #require(harness.serverMessages(0).first?["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{"message":"?"}}},"requestState":"s"}}"#
        )
        let asked = try #require(harness.agentMessages().first?["id"] as? Int)
        harness.agent(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}"#)
        harness.agent(#"{"jsonrpc":"2.0","id":\#(asked),"result":{"action":"cancel"}}"#)
        #expect(harness.serverMessages(0).isEmpty, "no retry after the agent gave up")
        #expect(harness.agentMessages().isEmpty)
    }

    @Test func aQuestionTheAgentCannotAnswerIsRefused() throws {
        let harness = try legacyPair(capabilities: "{}")
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let id = try #require(harness.serverMessages(0).first?["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"r":{"method":"roots/list"}}}}"#
        )
        let answer = try #require(harness.agentMessages().first?.result)
        #expect(answer["isError"] as? Bool == true)
        #expect(
            ((answer["content"] as? [[String: Any]])?.first?["text"] as? String)?.contains("did not declare") == true)
    }
}
