import Foundation
import Testing

@testable import PersonaShim

/// Log lines across the eras: a modern agent's per-request `logLevel` set on a legacy server with
/// `logging/setLevel` and passed to a modern one in `_meta`; log lines reach a modern agent only while a request
/// that asked for them is in progress.
@Suite struct RequestLoggingTests {
    typealias Eras = SessionCoreEraTests
    static let logging = #"{"tools":{},"logging":{}}"#

    func modernOverLegacy() throws -> CoreHarness {
        let harness = try CoreHarness(persona: SessionCoreTests.twoServers)
        harness.agent(Eras.request(1, "tools/list"))
        _ = harness.core.takeActions()
        try harness.bringUp(0, tools: ["echo"], capabilities: Self.logging)
        try harness.bringUp(1, tools: ["read"])
        _ = harness.agentMessages()
        return harness
    }

    static func log(_ level: String, _ text: String) -> String {
        #"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"\#(level)","logger":"db","data":"\#(text)"}}"#
    }

    static func call(_ id: Int, level: String?) -> String {
        let extra = level.map { #""io.modelcontextprotocol/logLevel":"\#($0)""# } ?? ""
        return Eras.request(
            id, "tools/call", params: #""name":"a__echo","arguments":{}"#, meta: Eras.meta(extra: extra))
    }

    @Test func aModernAgentsLogLevelSetsALegacyServerAndOnlyItsRequestHearsTheLines() throws {
        let harness = try modernOverLegacy()
        harness.agent(Self.call(2, level: "info"))
        let sent = harness.serverMessages(0)
        #expect(sent.map { $0["method"] as? String } == ["logging/setLevel", "tools/call"])
        #expect((sent.first?["params"] as? [String: Any])?["level"] as? String == "info")
        let callID = try #require(sent.last?["id"] as? Int)
        harness.server(0, Self.log("debug", "below"))
        harness.server(0, Self.log("warning", "above"))
        let lines = harness.agentMessages()
        #expect(lines.count == 1)
        let params = try #require(lines.first?["params"] as? [String: Any])
        #expect(params["data"] as? String == "above" && params["logger"] as? String == "a/db")
        harness.server(0, #"{"jsonrpc":"2.0","id":\#(callID),"result":{"content":[]}}"#)
        _ = harness.agentMessages()
        // Nothing in progress asked for lines: none reach the agent.
        harness.server(0, Self.log("error", "after"))
        #expect(harness.agentMessages().isEmpty)
        // The same level again: the server is not set again. A request that asks for none hears none.
        harness.agent(Self.call(3, level: "info"))
        #expect(harness.serverMessages(0).map { $0["method"] as? String } == ["tools/call"])
        harness.agent(Self.call(4, level: nil))
        #expect(harness.serverMessages(0).map { $0["method"] as? String } == ["tools/call"])
        harness.server(0, Self.log("warning", "during"))
        #expect(harness.agentMessages().count == 1, "request 3 is still in progress and asked for info")
    }

    @Test func aModernServerGetsTheLevelInMeta() throws {
        // A modern agent's own level.
        let modern = try RequestStateTests().modernPair()
        modern.agent(Self.call(2, level: "notice"))
        let sent = try #require(modern.serverMessages(0).first)
        let meta = (sent["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(meta?["io.modelcontextprotocol/logLevel"] as? String == "notice")
        // A legacy agent's session level.
        let legacy = try LegacyAgentInputTests().legacyPair()
        legacy.agent(#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"error"}}"#)
        _ = legacy.agentMessages()
        legacy.agent(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a__echo","arguments":{}}}"#)
        let forwarded = try #require(legacy.serverMessages(0).first { $0["method"] as? String == "tools/call" })
        let legacyMeta = (forwarded["params"] as? [String: Any])?["_meta"] as? [String: Any]
        #expect(legacyMeta?["io.modelcontextprotocol/logLevel"] as? String == "error")
    }
}
