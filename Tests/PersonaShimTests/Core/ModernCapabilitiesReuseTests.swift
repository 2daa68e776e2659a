import Foundation
import Testing

@testable import PersonaShim

/// A modern agent's capabilities are read again whenever their bytes change, and reused while they do not: what a
/// modern server is told follows every request's own declaration.
@Suite struct ModernCapabilitiesReuseTests {
    typealias Eras = SessionCoreEraTests

    func declared(_ harness: CoreHarness, id: Int, capabilities: String) throws -> [String: Any]? {
        harness.agent(
            Eras.request(
                id, "tools/call", params: #""name":"a__echo","arguments":{}"#,
                meta: Eras.meta(capabilities: capabilities)))
        let sent = try #require(harness.serverMessages(0).first)
        let meta = (sent["params"] as? [String: Any])?["_meta"] as? [String: Any]
        return meta?["io.modelcontextprotocol/clientCapabilities"] as? [String: Any]
    }

    @Test func eachRequestIsJudgedByItsOwnCapabilities() throws {
        let harness = try RequestStateTests().modernPair()
        let form = #"{"elicitation":{"form":{}}}"#
        #expect(try declared(harness, id: 2, capabilities: form)?["elicitation"] != nil)
        #expect(try declared(harness, id: 3, capabilities: "{}")?["elicitation"] == nil)
        #expect(try declared(harness, id: 4, capabilities: form)?["elicitation"] != nil, "the same bytes again")
        #expect(try declared(harness, id: 5, capabilities: form)?["elicitation"] != nil)
        #expect(try declared(harness, id: 6, capabilities: #"{"sampling":{}}"#)?["elicitation"] == nil)
        #expect(try declared(harness, id: 7, capabilities: #"{ }"#)?["elicitation"] == nil)
    }

    @Test func theSameBytesAreOnlyEverTheSameBytes() {
        let bytes = Array(#"{"a":1}"#.utf8)
        let line = Array(#"xx{"a":1}{"a":2}"#.utf8)
        line.withUnsafeBytes { raw in
            #expect(SessionCore.same(bytes, raw, 2..<9))
            #expect(!SessionCore.same(bytes, raw, 9..<16))
            #expect(!SessionCore.same(bytes, raw, 2..<8))
            #expect(!SessionCore.same(nil, raw, 2..<9))
            #expect(SessionCore.same([], raw, 0..<0))
        }
    }
}
