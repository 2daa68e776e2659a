import Foundation
import Testing

@testable import PersonaShim

/// Each server's era: the `server/discover` probe, its fallbacks, and speaking to a modern server with per-request
/// `_meta`, whatever the agent's era.
@Suite struct SessionCoreServerEraTests {
    typealias Eras = SessionCoreEraTests

    func legacyAgent() throws -> CoreHarness {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        #expect(harness.initializeAgent() == [.start(server: 0), .start(server: 1)])
        return harness
    }

    /// A modern agent's first request starts the servers; they are probed first.
    func modernAgent() throws -> CoreHarness {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Eras.request(1, "tools/list"))
        #expect(harness.core.takeActions() == [.start(server: 0), .start(server: 1)])
        return harness
    }

    func probeID(_ harness: CoreHarness, _ index: Int) throws -> Int {
        harness.core.serverStarted(index, pid: Int32(1000 + index), command: "/bin/fake-\(index)")
        let probe = try #require(harness.serverMessages(index).first)
        #expect(probe["method"] as? String == "server/discover")
        let meta = (probe["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(meta?["io.modelcontextprotocol/protocolVersion"] as? String == "2026-07-28")
        #expect(meta?["io.modelcontextprotocol/clientCapabilities"] is [String: Any])
        return try #require(probe["id"] as? Int)
    }

    @Test(arguments: [
        #"{"code":-32601,"message":"Method not found"}"#, #"{"code":-32602,"message":"not initialized"}"#,
        #"{"code":-32000,"message":"whatever"}"#,
    ])
    func anyNonModernErrorMeansLegacy(_ error: String) throws {
        let harness = try modernAgent()
        let id = try probeID(harness, 0)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"error":\#(error)}"#)
        #expect(harness.serverMessages(0).first?["method"] as? String == "initialize")
    }

    @Test func silenceMeansLegacyAfterABoundedWait() throws {
        let harness = try modernAgent()
        let id = try probeID(harness, 0)
        harness.advance(seconds: 1.9)
        #expect(harness.serverMessages(0).isEmpty)
        harness.advance(seconds: 0.2)
        #expect(harness.serverMessages(0).first?["method"] as? String == "initialize")
        // A late answer to the probe changes nothing.
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32601,"message":"no"}}"#)
        #expect(harness.serverMessages(0).isEmpty)
    }

    @Test func aLateModernAnswerWinsOverTheFallback() throws {
        // A slow dual-era server: the probe times out, initialize goes out, then the discover answer arrives (and
        // the server, now stateless, would refuse the handshake).
        let harness = try modernAgent()
        let id = try probeID(harness, 0)
        harness.advance(seconds: 2.1)
        let initialize = try #require(harness.serverMessages(0).first)
        #expect(initialize["method"] as? String == "initialize")
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"complete","supportedVersions":["2026-07-28","2025-11-25"],"capabilities":{"tools":{}},"ttlMs":0,"cacheScope":"public"}}"#
        )
        let list = try #require(harness.serverMessages(0).first)
        #expect(list["method"] as? String == "tools/list")
        let meta = (list["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(meta?["io.modelcontextprotocol/protocolVersion"] as? String == "2026-07-28")
        let initializeID = try #require(initialize["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(initializeID),"error":{"code":-32600,"message":"stateless now"}}"#)
        let failed = try harness.auditRecords().filter { $0["event"] as? String == "child.failed" }
        #expect(failed.isEmpty, "the refused handshake is no longer waited for")
    }

    @Test func aModernServerThatSpeaksNoneOfOurVersionsFails() throws {
        let harness = try modernAgent()
        let id = try probeID(harness, 0)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32022,"message":"no","data":{"supported":["2099-01-01"],"requested":"2026-07-28"}}}"#
        )
        #expect(harness.serverMessages(0).isEmpty, "no fallback to initialize")
        let failed = try harness.auditRecords().first { $0["event"] as? String == "child.failed" }
        #expect((failed?["reason"] as? String)?.contains("2099-01-01") == true)
    }

    @Test func aLegacyAgentsServersGetTheHandshakeFirstAndOnlyARefusalIsProbed() throws {
        let harness = try legacyAgent()
        harness.core.serverStarted(0, pid: 1000, command: "/bin/fake-0")
        let initialize = try #require(harness.serverMessages(0).first)
        #expect(initialize["method"] as? String == "initialize", "no probe: dual-era servers stay on the handshake")
        let id = try #require(initialize["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32600,"message":"no handshake here"}}"#)
        let probe = try #require(harness.serverMessages(0).first)
        #expect(probe["method"] as? String == "server/discover")
        let probeID = try #require(probe["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(probeID),"error":{"code":-32601,"message":"no"}}"#)
        #expect(harness.serverMessages(0).isEmpty, "no second handshake")
        let failed = try harness.auditRecords().first { $0["event"] as? String == "child.failed" }
        #expect((failed?["reason"] as? String)?.contains("refused initialize: no handshake here") == true)
    }

    @Test func aLegacyAgentReachesAModernServerWithPerRequestMeta() throws {
        let harness = try legacyAgent()
        try harness.bringUpModern(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        let initialized = try #require(harness.agentMessages().first?.result)
        #expect(initialized["protocolVersion"] as? String == "2025-11-25")
        let ready = try harness.auditRecords().filter { $0["event"] as? String == "child.ready" }
        #expect(ready.map { $0["protocolVersion"] as? String } == ["2026-07-28", "2025-11-25"])
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        let names = (harness.agentMessages().first?.result?["tools"] as? [[String: Any]])?.map { $0["name"] as? String }
        #expect(names == ["a__echo", "b__read"])
        harness.agent(
            #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a__echo","arguments":{},"_meta":{"progressToken":"p"}}}"#
        )
        harness.agent(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let forwarded = harness.serverMessages(0)
        #expect(forwarded.count == 2)
        for message in forwarded {
            let meta = (message["params"] as? [String: Any])?["_meta"] as? [String: Any]
            #expect(meta?["io.modelcontextprotocol/protocolVersion"] as? String == "2026-07-28")
            #expect(
                (meta?["io.modelcontextprotocol/clientInfo"] as? [String: Any])?["name"] as? String == "persona-shim")
            #expect((message["params"] as? [String: Any])?["name"] as? String == "echo")
        }
        let withToken = (forwarded[0]["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(withToken?["progressToken"] is Int)
        let id = try #require(forwarded[0]["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"complete","content":[{"type":"text","text":"x"}]}}"#)
        #expect(harness.agentMessages().first?["id"] as? Int == 2)
        // The legacy server still gets no _meta it did not ask for.
        harness.agent(#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"b__read","arguments":{}}}"#)
        #expect((harness.serverMessages(1).first?["params"] as? [String: Any])?["_meta"] == nil)
    }

    @Test func aModernAgentOverAModernServerSendsTheShimsFieldsNotTheAgents() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Eras.request(1, "tools/list", meta: Eras.meta(capabilities: #"{"elicitation":{}}"#)))
        _ = harness.core.takeActions()
        try harness.bringUpModern(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        #expect(harness.agentMessages().first?.result?["cacheScope"] as? String == "private")
        harness.agent(Eras.request(2, "tools/call", params: #""name":"a__echo","arguments":{}"#))
        let sent = try #require(harness.serverMessages(0).first)
        let meta = try #require((sent["params"] as? [String: Any])?["_meta"] as? [String: Any])
        #expect((meta["io.modelcontextprotocol/clientInfo"] as? [String: Any])?["name"] as? String == "persona-shim")
        #expect((meta["io.modelcontextprotocol/clientCapabilities"] as? [String: Any])?.isEmpty == true)
        let id = try #require(sent["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"complete","content":[]}}"#)
        #expect(harness.agentMessages().first?.result?["resultType"] as? String == "complete")
    }

    @Test(arguments: [false, true])
    func anInputRequiredResultIsNotRelayedToAnAgentThatCannotAnswer(_ modernAgent: Bool) throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        if modernAgent {
            harness.agent(Eras.request(1, "tools/list"))
        } else {
            _ = harness.initializeAgent()
        }
        _ = harness.core.takeActions()
        try harness.bringUpModern(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        let params = #""name":"a__echo","arguments":{}"#
        harness.agent(
            modernAgent
                ? Eras.request(2, "tools/call", params: params)
                : #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{\#(params)}}"#)
        let id = try #require(harness.serverMessages(0).first?["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{}}},"requestState":"s"}}"#
        )
        let message = try #require(harness.agentMessages().first)
        let outcome = try harness.auditRecords().first { $0["event"] as? String == "call.outcome" }
        if modernAgent {
            // Relayed only to an agent that can answer: this one did not declare elicitation.
            #expect(message.errorCode == -32021)
            #expect(outcome?["outcome"] as? String == "missing_capability")
        } else {
            let answer = try #require(message.result)
            #expect(answer["isError"] as? Bool == true)
            #expect(answer["requestState"] == nil && answer["inputRequests"] == nil)
            #expect(outcome?["outcome"] as? String == "input_refused", "it did not declare elicitation")
        }
    }

    @Test func aLegacyServerCannotSmuggleAnInterimResultPastTheRules() throws {
        let harness = try modernAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(Eras.request(2, "tools/call", params: #""name":"a__echo","arguments":{}"#))
        let id = try #require(harness.serverMessages(0).first?["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{}}},"requestState":"raw"}}"#
        )
        let answer = try #require(harness.agentMessages().first)
        #expect(answer.errorCode == -32021, "judged like a modern server's: this request declared no elicitation")
        #expect("\(answer)".contains("raw") == false)
    }

    @Test func aRestartedServerIsProbedAgain() throws {
        let harness = try legacyAgent()
        try harness.bringUpModern(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.core.serverExited(0, status: .signaled(9))
        harness.core.serverDisconnected(0)
        harness.advance(seconds: 1.01)
        #expect(harness.core.takeActions() == [.restart(server: 0)])
        harness.core.serverRestarting(0)
        #expect(harness.core.takeActions() == [.start(server: 0)])
        // The new process is legacy this time.
        try harness.bringUp(0, tools: ["echo"])
        let ready = try harness.auditRecords().filter { $0["event"] as? String == "child.ready" }
        #expect(ready.compactMap { $0["protocolVersion"] as? String } == ["2026-07-28", "2025-11-25", "2025-11-25"])
    }
}
