import Foundation
import Testing

@testable import PersonaShim

/// A modern (2026-07-28, stateless) agent: discovery, per-request version and capabilities, the fields modern
/// results carry, what mixing eras gets, and that policy and audit do not depend on the era.
@Suite struct SessionCoreEraTests {
    static let version = "2026-07-28"

    static func meta(
        version: String = SessionCoreEraTests.version, capabilities: String? = "{}", client: String = "modern-test",
        extra: String = ""
    ) -> String {
        var members = [#""io.modelcontextprotocol/protocolVersion":"\#(version)""#]
        if let capabilities { members.append(#""io.modelcontextprotocol/clientCapabilities":\#(capabilities)"#) }
        members.append(#""io.modelcontextprotocol/clientInfo":{"name":"\#(client)","version":"2"}"#)
        if !extra.isEmpty { members.append(extra) }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func request(_ id: Int, _ method: String, params: String = "", meta: String = SessionCoreEraTests.meta())
        -> String
    {
        let body = params.isEmpty ? #""_meta":\#(meta)"# : #"\#(params),"_meta":\#(meta)"#
        return #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{\#(body)}}"#
    }

    /// A modern agent whose first request, `tools/list`, starts both servers; answered once they are up.
    func modernHarness() throws -> (CoreHarness, [String: Any]) {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Self.request(1, "tools/list"))
        #expect(harness.core.takeActions() == [.start(server: 0), .start(server: 1)])
        #expect(harness.agentMessages().isEmpty, "the list waits for the servers")
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read", "secret"])
        return (harness, try #require(harness.agentMessages().first))
    }

    @Test func discoveryOffersBothErasAndStartsNothing() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Self.request(1, "server/discover"))
        #expect(harness.core.takeActions().isEmpty)
        let result = try #require(harness.agentMessages().first?.result)
        #expect(result["resultType"] as? String == "complete")
        #expect(
            result["supportedVersions"] as? [String] == [
                "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
            ])
        #expect(result["cacheScope"] as? String == "private")
        #expect((result["ttlMs"] as? Int).map { $0 >= 0 } == true)
        let capabilities = try #require(result["capabilities"] as? [String: Any])
        #expect(capabilities["tools"] != nil && capabilities["resources"] != nil && capabilities["prompts"] == nil)
        let info = (result["_meta"] as? [String: Any])?["io.modelcontextprotocol/serverInfo"] as? [String: Any]
        #expect(info?["name"] as? String == "persona-shim")
        // Discovery decides no era: an agent may still initialize afterwards.
        _ = harness.initializeAgent()
        #expect(harness.agentMessages().isEmpty, "initialize waits for the servers, as before")
    }

    @Test func aDiscoveryProbeForAnotherRevisionGetsTheModernError() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Self.request(1, "server/discover", meta: Self.meta(version: "2099-01-01")))
        let answer = try #require(harness.agentMessages().first)
        #expect(answer.errorCode == -32022)
        let data = (answer["error"] as? [String: Any])?["data"] as? [String: Any]
        #expect(data?["supported"] as? [String] == ["2026-07-28"])
        #expect(data?["requested"] as? String == "2099-01-01")
    }

    @Test func aModernAgentNeedsNoHandshakeAndGetsAPrivateCacheableList() throws {
        let (harness, answer) = try modernHarness()
        #expect(answer["id"] as? Int == 1)
        let result = try #require(answer.result)
        #expect(result["resultType"] as? String == "complete")
        #expect(result["cacheScope"] as? String == "private")
        #expect(result["ttlMs"] as? Int == SessionCore.listTTLMilliseconds)
        let names = (result["tools"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["a__echo", "b__read"])
        // Asked again, the same list in the same order.
        harness.agent(Self.request(2, "tools/list"))
        let again = (harness.agentMessages().first?.result?["tools"] as? [[String: Any]])?.compactMap {
            $0["name"] as? String
        }
        #expect(again == names)
        let start = try harness.auditRecords().first { $0["event"] as? String == "session.start" }
        #expect(start?["protocolVersion"] as? String == "2026-07-28")
    }

    @Test func legacyServersAreOfferedTheNewestHandshakeAndNoClientCapabilities() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Self.request(1, "tools/list", meta: Self.meta(capabilities: #"{"roots":{},"sampling":{}}"#)))
        _ = harness.core.takeActions()
        harness.core.serverStarted(0, pid: 1000, command: "/bin/fake-0")
        try harness.answerProbeAsLegacy(0)
        let initialize = try #require(harness.serverMessages(0).first)
        let params = try #require(initialize["params"] as? [String: Any])
        #expect(params["protocolVersion"] as? String == "2025-11-25")
        #expect((params["capabilities"] as? [String: Any])?.isEmpty == true)
    }

    @Test func aForwardedCallLosesTheReservedMetaAndItsAnswerSaysItIsComplete() throws {
        let (harness, _) = try modernHarness()
        let meta = Self.meta(extra: #""progressToken":"p1","trace.example/id":"t""#)
        harness.agent(Self.request(2, "tools/call", params: #""name":"a__echo","arguments":{"x":1}"#, meta: meta))
        let forwarded = try #require(harness.serverMessages(0).first)
        let sentMeta = try #require((forwarded["params"] as? [String: Any])?["_meta"] as? [String: Any])
        #expect(sentMeta.keys.sorted() == ["progressToken", "trace.example/id"])
        #expect(sentMeta["progressToken"] is Int, "the shim's own token")
        let id = try #require(forwarded["id"] as? Int)
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[{"type":"text","text":"hi"}]}}"#)
        let answer = try #require(harness.agentMessages().first)
        #expect(answer["id"] as? Int == 2)
        #expect(answer.result?["resultType"] as? String == "complete")
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#)
        // A hidden tool is refused as for a legacy agent, like a missing one.
        harness.agent(Self.request(3, "tools/call", params: #""name":"b__secret","arguments":{}"#))
        #expect(harness.agentMessages().first?.errorCode == -32602)
    }

    @Test func aMetaOfReservedKeysOnlyReachesALegacyServerAsTheShimsTokenAlone() throws {
        let (harness, _) = try modernHarness()
        harness.agent(
            Self.request(
                2, "tools/call", params: #""name":"a__echo","arguments":{}"#,
                meta: Self.meta(extra: #""progressToken":7,"io.modelcontextprotocol/logLevel":"debug""#)))
        harness.agent(Self.request(3, "tools/call", params: #""name":"a__echo","arguments":{}"#))
        // An escaped key is read for what it says: the agent's progress token, replaced by the shim's.
        harness.agent(
            Self.request(
                4, "tools/call", params: #""name":"a__echo","arguments":{}"#,
                meta: Self.meta(extra: #""progressToken":"p""#)))
        let sent = harness.serverMessages(0).map { ($0["params"] as? [String: Any])?["_meta"] as? [String: Any] }
        #expect(sent.count == 3)
        #expect(sent[0]?.keys.sorted() == ["progressToken"] && sent[0]?["progressToken"] is Int)
        #expect(sent[1]?.isEmpty == true)
        #expect(sent[2]?.keys.sorted() == ["progressToken"] && sent[2]?["progressToken"] is Int)
    }

    @Test func requestsWithoutTheRequiredMetaOrOfAnotherRevisionAreRefused() throws {
        let (harness, _) = try modernHarness()
        harness.agent(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        harness.agent(Self.request(3, "tools/list", meta: Self.meta(capabilities: nil)))
        harness.agent(Self.request(4, "tools/list", meta: Self.meta(version: "2025-11-25")))
        harness.agent(Self.request(5, "logging/setLevel", params: #""level":"debug""#))
        harness.agent(Self.request(6, "resources/subscribe", params: #""uri":"a+file:///x""#))
        harness.agent(#"{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#)
        #expect(harness.agentMessages().map(\.errorCode) == [-32602, -32602, -32022, -32601, -32601, -32600])
    }

    @Test func aLegacySessionRefusesAModernRequest() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(Self.request(1, "tools/list"))
        let refusal = try #require(harness.agentMessages().first)
        #expect(refusal.errorCode == -32600)
        let message = (refusal["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("began with initialize"))
        // Discovery is still answered, and changes nothing.
        harness.agent(Self.request(2, "server/discover"))
        #expect(harness.agentMessages().first?.result?["supportedVersions"] != nil)
        harness.agent(#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#)
        #expect(harness.agentMessages().first?.result?["resultType"] == nil, "legacy answers are unchanged")
    }

    @Test func theSamePersonaGivesTheSameDecisionsInBothEras() throws {
        let calls = [("a__echo", 10), ("b__secret", 11), ("b__read", 12), ("zz__nothing", 13)]
        func decisions(modern: Bool) throws -> ([[String: String]], [String]) {
            let harness: CoreHarness
            if modern {
                harness = try modernHarness().0
            } else {
                harness = try CoreHarness(persona: SessionCoreTests.twoServers)
                _ = harness.initializeAgent()
                try harness.bringUp(0, tools: ["echo"])
                try harness.bringUp(1, tools: ["read", "secret"])
            }
            _ = harness.agentMessages()
            for (tool, id) in calls {
                let params = #""name":"\#(tool)","arguments":{"x":1}"#
                harness.agent(
                    modern
                        ? Self.request(id, "tools/call", params: params)
                        : #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{\#(params)}}"#)
            }
            let kept = ["event", "decision", "rule", "reason", "server", "tool", "argsDigest"]
            let records = try harness.auditRecords().filter { $0["event"] as? String == "call.decision" }
            let agents = try harness.auditRecords().compactMap { ($0["agent"] as? [String: Any])?["name"] as? String }
            return (
                records.map { record in
                    Dictionary(uniqueKeysWithValues: kept.compactMap { key in record[key].map { (key, "\($0)") } })
                }, Array(Set(agents))
            )
        }
        let (legacy, legacyAgents) = try decisions(modern: false)
        let (modern, modernAgents) = try decisions(modern: true)
        #expect(legacy.count == calls.count)
        #expect(legacy == modern)
        #expect(legacyAgents == ["core-test"])
        #expect(modernAgents == ["modern-test"], "clientInfo is recorded per request")
    }
}
