import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    @Suite struct ToolScope {
        @Test func listShowsOnlyThePersonasToolsInServerOrder() throws {
            let shim = try ShimProcess(
                servers: [("zeta", fixture(["--tools", "3"])), ("alpha", fixture())],
                allow: ["zeta__tool_*", "zeta__echo", "alpha__echo", "alpha__raw"], deny: ["zeta__tool_001"])
            try shim.initialize()
            #expect(
                try shim.toolNames() == ["zeta__echo", "zeta__tool_000", "zeta__tool_002", "alpha__echo", "alpha__raw"])
        }

        @Test func hiddenToolsAreIndistinguishableFromMissingOnes() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture()), ("other", fixture())], allow: ["fx__echo", "other__fail"])
            try shim.initialize()
            func error(_ name: String) -> JSONValue? { shim.call(name)?["error"] }
            let missing = try #require(error("fx__does_not_exist"))
            #expect(missing["code"] == -32602)
            #expect(missing["message"] == "Unknown tool: fx__does_not_exist")
            for hidden in ["fx__crash", "FX__ECHO", "fx__Echo", "other__echo", "other__crash", "crash", "echo"] {
                let refused = try #require(error(hidden), "\(hidden) was not refused")
                #expect(refused == ["code": -32602, "message": .string("Unknown tool: \(hidden)")])
            }
            // fx__crash was never forwarded: the server is still alive and answering.
            #expect(shim.call("fx__echo", ["a": 1])?["result"] != nil)
            let denials = shim.auditRecords().filter { $0["decision"] == "deny" }
            #expect(denials.count == 8)
            #expect(denials.first { $0["tool"] == "fx__crash" }?["rule"] == "default-deny")
            #expect(denials.first { $0["tool"] == "fx__does_not_exist" }?["rule"] == "unknown-tool")
        }

        @Test func denyBeatsAllowWhateverTheOrder() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__*", "fx__echo"], deny: ["fx__echo"])
            try shim.initialize()
            let names = try shim.toolNames()
            #expect(!names.contains("fx__echo"))
            #expect(names.contains("fx__raw"))
            #expect(shim.call("fx__echo")?["error"]?["message"] == "Unknown tool: fx__echo")
            let record = shim.auditRecords().first { $0["tool"] == "fx__echo" }
            #expect(record?["rule"] == #"tools.deny["fx__echo"]"#)
        }

        @Test func paginatedListsAreAggregated() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture(["--tools", "30", "--page-size", "7"]))], allow: ["fx__*"])
            try shim.initialize()
            let names = try shim.toolNames()
            #expect(names.count == 38)
            #expect(names.last == "fx__tool_029")
        }

        @Test func oddDownstreamNamesAreSanitisedAndStillCallable() throws {
            let long = String(repeating: "x", count: 200)
            let shim = try ShimProcess(
                servers: [
                    (
                        "fx",
                        fixture([
                            "--tool-name", "files.read", "--tool-name", "a/b c", "--tool-name", "files_read",
                            "--tool-name", long,
                        ])
                    )
                ],
                allow: ["fx__*"])
            try shim.initialize()
            let names = try shim.toolNames()
            let extra = Array(names.suffix(4))
            #expect(extra[0] == "fx__files_read")
            #expect(extra[1] == "fx__a_b_c")
            #expect(extra[2].hasPrefix("fx__files_read_") && extra[2].count == 23)
            #expect(extra[3].count == 64)
            for name in names {
                #expect(name.range(of: "^[A-Za-z0-9_-]{1,64}$", options: .regularExpression) != nil, "\(name)")
            }
            // Each exposed name reaches its own downstream tool.
            let text = shim.call(extra[2], ["k": "v"])?["result"]?["content"]?[0]?["text"]
            #expect(text == #"{"k":"v"}"#)
            #expect(shim.auditRecords().contains { $0["event"] == "call.outcome" && $0["tool"] == .string(extra[2]) })
        }

        @Test func expiredPersonaRefusesToStart() throws {
            let persona = personaJSON(
                servers: [("fx", fixture())], allow: ["fx__*"], extra: [("expires", "2020-01-01")])
            let scratch = Scratch()
            let path = scratch.write("p.json", persona)
            let result = try runShim(["--persona", path])
            #expect(result.status == .exited(65))
            #expect(result.stderr.contains("expired on 2020-01-01"))
            #expect(result.stdout.isEmpty)
        }

        @Test func wrappingOneCommandNeedsNoServersBlock() throws {
            let persona =
                #"{"persona":"wrap","purpose":"p","owner":"o","reviewBy":"2099-01-01","tools":{"allow":["fx__echo"]}}"#
            let shim = try ShimProcess(
                persona: persona, arguments: ["--name", "fx", "--", Binaries.fixture, "--name", "wrapped"])
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo"])
        }

        @Test func serversCanComeFromAClientConfigFile() throws {
            let scratch = Scratch()
            let config = scratch.write(
                "mcp.json",
                JSONWriter.string([
                    "mcpServers": ["fx": fixture(), "remote": ["type": "http", "url": "http://127.0.0.1:1"]]
                ]))
            let persona =
                #"{"persona":"p","purpose":"p","owner":"o","reviewBy":"2099-01-01","tools":{"allow":["fx__raw"]}}"#
            let shim = try ShimProcess(persona: persona, arguments: ["--servers", config])
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__raw"])
        }
    }
}

extension EndToEnd.ToolScope {
    @Test func aPersonaThatGivesTheAgentNothingSaysSoInTheLogAndTheAudit() throws {
        // The two easiest mistakes: a tool name without its server prefix, and a server name the persona lacks.
        let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["echo", "files__*"])
        try shim.initialize()
        #expect(try shim.toolNames().isEmpty)
        _ = shim.finish()
        // Logged at start; stderr is read alongside, so the lines are waited for.
        #expect(
            eventually {
                shim.client.standardError.contains(
                    #"the allow pattern "echo" matched none of the servers' tools: pattern "echo" has no "__""#)
            })
        #expect(eventually { shim.client.standardError.contains(#"the allow pattern "files__*" matched none"#) })
        #expect(eventually { shim.client.standardError.contains("the agent sees no tools") })
        let record = try #require(shim.auditRecords().first { $0["event"] == "session.tools" })
        #expect(record["unmatchedPatterns"] == ["echo", "files__*"])
        #expect(record["visible"] == 0)
    }
}
