import Foundation
import PersonaShim
import Testing

/// Both protocol eras spoken by the real binary: a modern (2026-07-28, stateless) agent and a legacy one.
extension EndToEnd {
    @Suite struct Eras {
        static let modern = "2026-07-28"

        static func meta(client: String = "modern-agent", version: String = modern) -> JSONValue {
            [
                "io.modelcontextprotocol/protocolVersion": .string(version),
                "io.modelcontextprotocol/clientCapabilities": [:],
                "io.modelcontextprotocol/clientInfo": ["name": .string(client), "version": "3"],
            ]
        }

        static func params(_ members: [(String, JSONValue)] = [], meta: JSONValue = Eras.meta()) -> JSONValue {
            .object(JSONObject(members.map { (key: $0.0, value: $0.1) } + [(key: "_meta", value: meta)]))
        }

        func shim() throws -> ShimProcess {
            try ShimProcess(servers: [("fx", fixture()), ("other", fixture(["--name", "other"]))], allow: ["fx__*"])
        }

        @Test func aModernAgentDiscoversListsAndCallsWithoutAHandshake() throws {
            let shim = try shim()
            let discover = try #require(
                shim.client.request("server/discover", params: Self.params(), id: "d").response?["result"],
                "stderr: \(shim.client.standardError)")
            #expect(discover["resultType"] == "complete")
            let versions = discover["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(versions.first == Self.modern && versions.contains("2025-11-25"))

            let list = try #require(shim.client.request("tools/list", params: Self.params(), id: 1).response?["result"])
            #expect(list["resultType"] == "complete")
            #expect(list["cacheScope"] == "private")
            #expect(list["ttlMs"]?.intValue != nil)
            let names = list["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(!names.isEmpty && names.allSatisfy { $0.hasPrefix("fx__") })
            #expect(
                names == names.sorted() || names == list["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue })

            let call = shim.client.request(
                "tools/call",
                params: Self.params([("name", "fx__echo"), ("arguments", ["text": "hello"])]), id: 2
            ).response
            #expect(call?["result"]?["resultType"] == "complete")
            let content = JSONWriter.string(call?["result"]?["content"] ?? .null)
            #expect(content.contains("hello"))

            let refused = shim.client.request(
                "tools/call", params: Self.params([("name", "other__echo"), ("arguments", [:])]), id: 3
            ).response
            #expect(refused?["error"]?["code"] == -32602)

            let records = shim.auditRecords()
            #expect(records.first { $0["event"] == "session.start" }?["protocolVersion"] == .string(Self.modern))
            let decisions = records.filter { $0["event"] == "call.decision" }
            #expect(decisions.contains { $0["decision"] == "allow" })
            #expect(decisions.allSatisfy { $0["agent"]?["name"] == "modern-agent" })
            #expect(shim.finish() == .exited(0))
        }

        @Test func versionsCapabilitiesAndMixedErasAreRefusedInWords() throws {
            let shim = try shim()
            let other = shim.client.request(
                "tools/list", params: Self.params(meta: Self.meta(version: "2099-01-01")), id: 1)
            #expect(other.response?["error"]?["code"] == -32022)
            #expect(other.response?["error"]?["data"]?["requested"] == "2099-01-01")
            let noCapabilities = shim.client.request(
                "tools/list", params: Self.params(meta: ["io.modelcontextprotocol/protocolVersion": "2026-07-28"]),
                id: 2)
            #expect(noCapabilities.response?["error"]?["code"] == -32602)
            // The first valid request makes the session modern; initialize is then refused.
            #expect(shim.client.request("tools/list", params: Self.params(), id: 3).response?["result"] != nil)
            let initialize = shim.client.request(
                "initialize", params: ["protocolVersion": "2025-11-25", "capabilities": [:]], id: 4)
            #expect(initialize.response?["error"]?["code"] == -32600)
            #expect(initialize.response?["error"]?["message"]?.stringValue?.hasSuffix(".") == true)
        }

        @Test func aLegacyAgentIsServedAsBeforeAndMayProbeFirst() throws {
            let shim = try shim()
            // A dual-era client probes first; a legacy one never does. Either may then initialize.
            #expect(shim.client.request("server/discover", params: Self.params(), id: "p").response?["result"] != nil)
            let initialized = try shim.initialize()
            #expect(initialized["result"]?["protocolVersion"] == "2025-11-25")
            let list = try #require(shim.client.request("tools/list", id: 1).response?["result"])
            #expect(list["resultType"] == nil && list["cacheScope"] == nil)
            let modern = shim.client.request("tools/list", params: Self.params(), id: 2)
            #expect(modern.response?["error"]?["code"] == -32600)
        }

        /// The agent's era and the server's are independent: all four combinations list, call and refuse alike, and
        /// audit the same decisions.
        @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
        func everyCombinationOfErasWorks(_ modernAgent: Bool, _ modernServer: Bool) throws {
            let options = modernServer ? ["--era", "modern"] : []
            let shim = try ShimProcess(
                servers: [("fx", fixture(options)), ("other", fixture(options + ["--name", "other"]))],
                allow: ["fx__*"])
            func params(_ members: [(String, JSONValue)] = []) -> JSONValue {
                modernAgent
                    ? Self.params(members) : .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
            }
            if !modernAgent { try shim.initialize() }
            let list = try #require(
                shim.client.request("tools/list", params: params(), id: 1).response?["result"],
                "stderr: \(shim.client.standardError)")
            let names = list["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("fx__echo") && names.allSatisfy { $0.hasPrefix("fx__") })
            #expect((list["cacheScope"] == "private") == modernAgent)
            let call = shim.client.request(
                "tools/call", params: params([("name", "fx__echo"), ("arguments", ["text": "both eras"])]), id: 2
            ).response
            let content = JSONWriter.string(call?["result"]?["content"] ?? .null)
            #expect(content.contains("both eras"), "\(String(describing: call))")
            if modernAgent { #expect(call?["result"]?["resultType"] == "complete") }
            let refused = shim.client.request(
                "tools/call", params: params([("name", "other__echo"), ("arguments", [:])]), id: 3
            ).response
            #expect(refused?["error"]?["code"] == -32602)
            let records = shim.auditRecords()
            let ready = records.filter { $0["event"] == "child.ready" }.compactMap {
                $0["protocolVersion"]?.stringValue
            }
            #expect(ready == Array(repeating: modernServer ? "2026-07-28" : "2025-11-25", count: 2))
            let decisions = records.filter { $0["event"] == "call.decision" }.map {
                [$0["decision"], $0["rule"], $0["tool"]]
            }
            #expect(
                decisions.map { $0.map { $0?.stringValue ?? "-" } } == [
                    ["allow", #"tools.allow["fx__*"]"#, "fx__echo"], ["deny", "default-deny", "other__echo"],
                ])
            #expect(shim.finish() == .exited(0))
        }
    }
}
