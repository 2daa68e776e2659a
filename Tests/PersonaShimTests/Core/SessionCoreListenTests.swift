import Foundation
import Testing

@testable import PersonaShim

/// `subscriptions/listen`: a modern agent's streams of list changes, and the shim's own listen on a modern server.
@Suite struct SessionCoreListenTests {
    typealias Eras = SessionCoreEraTests

    func modernHarness() throws -> CoreHarness {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Eras.request(1, "tools/list"))
        _ = harness.core.takeActions()
        try harness.bringUp(0, tools: ["echo"], capabilities: #"{"tools":{"listChanged":true}}"#)
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    @Test func aListenIsAcknowledgedWithWhatThePersonaGrantsAndHearsChangesTagged() throws {
        let harness = try modernHarness()
        harness.agent(
            Eras.request(
                7, "subscriptions/listen",
                params:
                    #""notifications":{"toolsListChanged":true,"promptsListChanged":true,"resourceSubscriptions":["a+file:///x"]}"#
            ))
        let ack = try #require(harness.agentMessages().first)
        #expect(ack["method"] as? String == "notifications/subscriptions/acknowledged")
        let params = try #require(ack["params"] as? [String: Any])
        #expect((params["_meta"] as? [String: Any])?["io.modelcontextprotocol/subscriptionId"] as? Int == 7)
        #expect((params["notifications"] as? [String: Any])?.keys.sorted() == ["toolsListChanged"])
        // Server a's tools change: the shim lists them again and tells the listen.
        harness.server(0, #"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#)
        let relist = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/list"))
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(relist),"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"more","inputSchema":{"type":"object"}}]}}"#
        )
        harness.advance(seconds: 0.1)
        let changed = try #require(harness.agentMessages().first)
        #expect(changed["method"] as? String == "notifications/tools/list_changed")
        let meta = (changed["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(meta?["io.modelcontextprotocol/subscriptionId"] as? Int == 7)
        // Cancelled: nothing more.
        harness.agent(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#)
        harness.server(0, #"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#)
        let again = try #require(CoreHarness.id(of: harness.serverMessages(0), method: "tools/list"))
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(again),"result":{"tools":[]}}"#)
        harness.advance(seconds: 0.1)
        #expect(harness.agentMessages().isEmpty)
    }

    @Test func aLegacyAgentsListenIsUnknownAsBefore() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        _ = harness.initializeAgent()
        try harness.bringUp(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(
            #"{"jsonrpc":"2.0","id":3,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true}}}"#
        )
        #expect(harness.agentMessages().map(\.errorCode) == [-32601])
    }

    @Test func aModernServersListChangesReachALegacyAgent() throws {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        _ = harness.initializeAgent()
        try harness.bringUpModern(0, tools: ["echo"])
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        _ = harness.agentMessages()
        // On the shim's listen stream, tagged with its id.
        harness.server(
            0,
            #"{"jsonrpc":"2.0","method":"notifications/tools/list_changed","params":{"_meta":{"io.modelcontextprotocol/subscriptionId":2}}}"#
        )
        let relist = try #require(harness.serverMessages(0).first)
        #expect(relist["method"] as? String == "tools/list")
        let id = try #require(relist["id"] as? Int)
        harness.server(
            0,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"complete","tools":[],"ttlMs":0,"cacheScope":"public"}}"#
        )
        harness.advance(seconds: 0.1)
        #expect(harness.agentMessages().first?["method"] as? String == "notifications/tools/list_changed")
    }
}
