import Foundation
import Testing

@testable import PersonaShim

/// A modern agent's `_meta` is read once and reused while its bytes repeat: a change of a single byte is read
/// again, so a version, capability or identity change is never missed.
@Suite struct ModernMetaCacheTests {
    typealias Eras = SessionCoreEraTests

    @Test func aRepeatedMetaIsReusedAndAChangedOneIsReadAgain() throws {
        let harness = try RequestStateTests().modernPair()
        harness.agent(Eras.request(2, "tools/list"))
        harness.agent(Eras.request(3, "tools/list"))
        #expect(harness.agentMessages().allSatisfy { $0.result != nil })
        // Same length, another version: refused as any unsupported version is.
        harness.agent(Eras.request(4, "tools/list", meta: Eras.meta(version: "2026-07-29")))
        #expect(harness.agentMessages().first?.errorCode == -32022)
        // Same length, another client: recorded as the new identity.
        harness.agent(
            Eras.request(
                5, "tools/call", params: #""name":"a__echo","arguments":{}"#, meta: Eras.meta(client: "other-agent")))
        _ = harness.serverMessages(0)
        let decision = try harness.auditRecords().last { $0["event"] as? String == "call.decision" }
        #expect((decision?["agent"] as? [String: Any])?["name"] as? String == "other-agent")
        // Back to the first: still served.
        harness.agent(Eras.request(6, "tools/list"))
        #expect(harness.agentMessages().first?.result != nil)
    }
}
