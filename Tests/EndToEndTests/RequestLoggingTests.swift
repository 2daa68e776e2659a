import Foundation
import PersonaShim
import Testing

/// A 2026-07-28 agent's per-request log level through the real binary: a legacy server's log lines reach the agent
/// only for a request that asked for them, at or above its level.
extension EndToEnd {
    @Suite struct RequestLogging {
        static func params(level: String?) -> JSONValue {
            var meta = JSONObject([
                ("io.modelcontextprotocol/protocolVersion", "2026-07-28"),
                ("io.modelcontextprotocol/clientCapabilities", [:]),
                ("io.modelcontextprotocol/clientInfo", ["name": "modern-agent", "version": "3"]),
            ])
            if let level { meta["io.modelcontextprotocol/logLevel"] = .string(level) }
            return [
                "name": "fx__notify", "arguments": ["count": 2, "kind": "message"], "_meta": .object(meta),
            ]
        }

        @Test func logLinesReachAModernAgentOnlyForARequestThatAskedForThem() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--protocol-tools"]))], allow: ["fx__notify"])
            func logLines(_ level: String?, id: Int) throws -> [JSONValue] {
                let reply = shim.client.request("tools/call", params: Self.params(level: level), id: .integer(id))
                _ = try #require(reply.response?["result"], "stderr: \(shim.client.standardError)")
                return reply.others.filter { $0["method"] == "notifications/message" }
            }
            let asked = try logLines("info", id: 1)
            #expect(asked.count == 2)
            #expect(asked.first?["params"]?["logger"] == "fx/fixture")
            #expect(try logLines("error", id: 2).isEmpty, "info lines are below the request's level")
            #expect(try logLines(nil, id: 3).isEmpty, "a request that asks for none hears none")
            #expect(shim.finish() == .exited(0))
        }
    }
}
