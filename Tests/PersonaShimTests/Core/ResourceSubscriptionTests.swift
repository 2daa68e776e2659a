import Foundation
import Testing

@testable import PersonaShim

/// Resource subscriptions across the eras: a modern agent's `resourceSubscriptions` become `resources/subscribe` on
/// a legacy server and the shim's listen on a modern one; a legacy agent's `resources/subscribe` to a modern server
/// rides on that listen.
@Suite struct ResourceSubscriptionTests {
    typealias Eras = SessionCoreEraTests
    static let subscribing = #"{"tools":{},"resources":{"subscribe":true}}"#
    static let persona = SessionCoreTests.twoServers.replacingOccurrences(
        of: #""resources": {"allow": ["*"]}"#, with: #""resources": {"allow": ["*"], "deny": ["a+memo://secret"]}"#)

    static func updated(_ uri: String) -> String {
        #"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"\#(uri)"}}"#
    }

    @Test func aModernAgentsListenSubscribesOnALegacyServerAndHearsItsUpdates() throws {
        let harness = try CoreHarness(persona: Self.persona)
        harness.agent(Eras.request(1, "tools/list"))
        _ = harness.core.takeActions()
        try harness.bringUp(0, tools: ["echo"], capabilities: Self.subscribing)
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(
            Eras.request(
                7, "subscriptions/listen",
                params: #""notifications":{"resourceSubscriptions":["a+memo://x","a+memo://secret","zz+memo://y"]}"#))
        let ack = try #require(harness.agentMessages().first)
        #expect(ack["method"] as? String == "notifications/subscriptions/acknowledged")
        let granted = (ack["params"] as? [String: Any])?["notifications"] as? [String: Any]
        #expect(granted?["resourceSubscriptions"] as? [String] == ["a+memo://x"])
        let subscribe = try #require(harness.serverMessages(0).first)
        #expect(subscribe["method"] as? String == "resources/subscribe")
        #expect((subscribe["params"] as? [String: Any])?["uri"] as? String == "memo://x")
        harness.server(0, Self.updated("memo://x"))
        harness.server(0, Self.updated("memo://other"))
        let updates = harness.agentMessages()
        #expect(updates.count == 1)
        let params = try #require(updates.first?["params"] as? [String: Any])
        #expect(params["uri"] as? String == "a+memo://x")
        #expect((params["_meta"] as? [String: Any])?["io.modelcontextprotocol/subscriptionId"] as? Int == 7)
        let denials = try harness.auditRecords().filter {
            $0["event"] as? String == "call.decision" && $0["decision"] as? String == "deny"
        }
        #expect(denials.count == 2)
        // The listen ends: the server is unsubscribed, and updates stop.
        harness.agent(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#)
        let unsubscribe = try #require(harness.serverMessages(0).first)
        #expect(unsubscribe["method"] as? String == "resources/unsubscribe")
        harness.server(0, Self.updated("memo://x"))
        #expect(harness.agentMessages().isEmpty)
    }

    @Test func aModernAgentsListenReachesAModernServersListen() throws {
        let harness = try RequestStateTests().modernPair()
        harness.core.servers[0].capabilities["resources"] = [:]
        harness.agent(
            Eras.request(
                8, "subscriptions/listen", params: #""notifications":{"resourceSubscriptions":["a+memo://x"]}"#))
        _ = harness.agentMessages()
        let sent = harness.serverMessages(0)
        #expect(sent.map { $0["method"] as? String } == ["notifications/cancelled", "subscriptions/listen"])
        let filter = (sent.last?["params"] as? [String: Any])?["notifications"] as? [String: Any]
        #expect(filter?["resourceSubscriptions"] as? [String] == ["memo://x"])
        #expect(filter?["toolsListChanged"] as? Bool == true, "list changes are still heard")
        harness.server(
            0,
            #"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"memo://x","_meta":{"io.modelcontextprotocol/subscriptionId":99}}}"#
        )
        let update = try #require(harness.agentMessages().first?["params"] as? [String: Any])
        #expect((update["_meta"] as? [String: Any])?["io.modelcontextprotocol/subscriptionId"] as? Int == 8)
    }

    @Test func aLegacyAgentsSubscribeToAModernServerRidesOnTheShimsListen() throws {
        let harness = try CoreHarness(persona: Self.persona)
        _ = harness.initializeAgent()
        try harness.bringUpModern(0, tools: ["echo"], capabilities: #"{"tools":{},"resources":{}}"#)
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        harness.agent(#"{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"a+memo://x"}}"#)
        #expect(harness.agentMessages().first?.result != nil)
        let sent = harness.serverMessages(0)
        #expect(sent.map { $0["method"] as? String } == ["notifications/cancelled", "subscriptions/listen"])
        let filter = (sent.last?["params"] as? [String: Any])?["notifications"] as? [String: Any]
        #expect(filter?["resourceSubscriptions"] as? [String] == ["memo://x"])
        harness.server(
            0,
            #"{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"memo://x","_meta":{"io.modelcontextprotocol/subscriptionId":5}}}"#
        )
        let update = try #require(harness.agentMessages().first?["params"] as? [String: Any])
        #expect(update["uri"] as? String == "a+memo://x" && update["_meta"] == nil)
        harness.agent(#"{"jsonrpc":"2.0","id":4,"method":"resources/unsubscribe","params":{"uri":"a+memo://x"}}"#)
        #expect(harness.agentMessages().first?.result != nil)
        let relisten = harness.serverMessages(0).last?["params"] as? [String: Any]
        #expect((relisten?["notifications"] as? [String: Any])?["resourceSubscriptions"] == nil)
        // A resource the persona hides is refused as before.
        harness.agent(#"{"jsonrpc":"2.0","id":5,"method":"resources/subscribe","params":{"uri":"a+memo://secret"}}"#)
        #expect(harness.agentMessages().first?.errorCode == -32002)
    }
}
