import Foundation
import PersonaShim
import Testing

/// A legacy server's own request (here `roots/list`) reaching a 2026-07-28 agent as `input_required`, through the
/// real binary and the fixture.
extension EndToEnd {
    @Suite struct HeldServerRequests {
        static func params(_ members: [(String, JSONValue)]) -> JSONValue {
            let meta: JSONValue = [
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": ["roots": [:]],
                "io.modelcontextprotocol/clientInfo": ["name": "modern-agent", "version": "3"],
            ]
            return .object(JSONObject(members.map { (key: $0.0, value: $0.1) } + [(key: "_meta", value: meta)]))
        }

        @Test func aLegacyServersRootsRequestBecomesInputRequiredAndTheRetryCompletesTheCall() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--protocol-tools"]))], allow: ["fx__ask"])
            let call: [(String, JSONValue)] = [("name", "fx__ask"), ("arguments", ["method": "roots/list"])]
            let first = try #require(
                shim.client.request("tools/call", params: Self.params(call), id: 1, timeout: 30).response?["result"],
                "stderr: \(shim.client.standardError)")
            #expect(first["resultType"] == "input_required")
            let inputs = try #require(first["inputRequests"]?.objectValue)
            let (key, question) = try #require(inputs.members.first)
            #expect(question["method"] == "roots/list")
            let state = try #require(first["requestState"]?.stringValue)
            #expect(state.hasPrefix("ps1."))

            let answer: JSONValue = ["roots": [["uri": "file:///held-root", "name": "r"]]]
            let retry = shim.client.request(
                "tools/call",
                params: Self.params(
                    call + [
                        ("inputResponses", .object(JSONObject([(key: key, value: answer)]))),
                        ("requestState", .string(state)),
                    ]), id: 2, timeout: 30
            ).response
            let result = try #require(retry?["result"], "\(String(describing: retry))")
            #expect(result["resultType"] == "complete")
            let text = result["content"]?[0]?["text"]?.stringValue ?? ""
            #expect(text.contains("fixture-ask") && text.contains("file:///held-root"), "\(text)")

            // The ticket is spent.
            let replay = shim.client.request(
                "tools/call",
                params: Self.params(
                    call + [
                        ("inputResponses", .object(JSONObject([(key: key, value: answer)]))),
                        ("requestState", .string(state)),
                    ]), id: 3, timeout: 30
            ).response
            #expect(replay?["result"]?["isError"] == true)
            let records = shim.auditRecords()
            #expect(records.contains { $0["event"] == "server.request" && $0["decision"] == "allow" })
            #expect(records.filter { $0["event"] == "call.outcome" }.map { $0["outcome"] } == ["input_required", "ok"])
            #expect(shim.finish() == .exited(0))
        }
    }
}
