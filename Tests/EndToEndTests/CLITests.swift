import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    @Suite struct CommandLine {
        @Test(arguments: [
            ["--help"], ["help"], ["run", "--help"], ["check", "--help"], ["demo", "--help"], ["help", "check"],
            ["tools", "--help"], ["digest", "--help"], ["help", "tools"],
        ])
        func helpExitsZeroOnStdout(_ arguments: [String]) throws {
            let result = try runShim(arguments)
            #expect(result.status == .exited(0))
            #expect(result.stdout.contains("USAGE"))
        }

        @Test func versionPrintsTheVersion() throws {
            let result = try runShim(["--version"])
            #expect(result.status == .exited(0))
            #expect(result.stdout == "persona-shim \(PersonaShimCLI.version)\n")
        }

        @Test(arguments: [
            [], ["frobnicate"], ["--persona"], ["run"], ["--bogus"], ["check"], ["run", "--persona", "x", "stray"],
        ])
        func usageErrorsExit64(_ arguments: [String]) throws {
            let result = try runShim(arguments)
            #expect(result.status == .exited(64))
            #expect(result.stderr.contains("persona-shim: error: "))
            #expect(result.stderr.contains("--help' for usage"))
        }

        @Test func typosGetSuggestions() throws {
            #expect(try runShim(["chek"]).stderr.contains(#"did you mean "check"?"#))
            #expect(try runShim(["--persna", "x"]).stderr.contains(#"did you mean "--persona"?"#))
        }

        @Test func checkAcceptsTheBundledPersona() throws {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Personas/support-reader.json").path
            let result = try runShim(["check", path])
            #expect(result.status == .exited(0), "\(result.stderr)")
            #expect(result.stdout.contains(#"persona "support-reader" is valid"#))
        }

        @Test func checkReportsErrorsLikeACompiler() throws {
            let scratch = Scratch()
            let path = scratch.write(
                "bad.json",
                "{\n  \"persona\": \"p\",\n  \"purpose\": \"x\",\n  \"owner\": \"o\",\n  \"servers\": {},\n  \"tols\": {}\n}\n"
            )
            let result = try runShim(["check", path])
            #expect(result.status == .exited(1))
            #expect(
                result.stderr.contains(
                    #"\#(path):6:3: error: unknown key "tols" in the persona (did you mean "tools"?)"#),
                "\(result.stderr)")
            #expect(result.stdout.contains("error"))
        }

        @Test func theDemoPlaysTheCanonicalCase() throws {
            let result = try runShim(["demo"])
            #expect(result.status == .exited(0), "\(result.stdout)\n\(result.stderr)")
            #expect(
                result.stdout.contains("Refused. The agent gets exactly the answer a tool that does not exist gets"))
            #expect(result.stdout.contains(#"deny    tools.deny["billing__adjust_balance"]"#), "\(result.stdout)")
            #expect(result.stdout.contains("the persona held"))
            let kept = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("The file is kept: ") })
            let auditPath = String(kept.dropFirst("The file is kept: ".count))
            #expect(FileManager.default.fileExists(atPath: auditPath))
            try? FileManager.default.removeItem(atPath: (auditPath as NSString).deletingLastPathComponent)
            let raw = try runShim(["demo", "--json", "--audit", auditPath])
            #expect(raw.status == .exited(0))
            #expect(raw.stdout.contains(#"{"ts":"#))
            try? FileManager.default.removeItem(atPath: (auditPath as NSString).deletingLastPathComponent)
        }
    }
}

extension EndToEnd {
    @Suite struct Examples {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        @Test(arguments: [
            "claude_desktop_config.json", "claude-code.mcp.json", "cursor.mcp.json", "vscode.mcp.json",
            "wrap-one-server.mcp.json", "servers.mcp.json",
        ])
        func clientConfigsAreValidAndNamePersonaShim(_ name: String) throws {
            let path = Self.root.appendingPathComponent("Examples/\(name)").path
            let (servers, diagnostics) = PersonaLoader.loadServersFile(path: path)
            #expect(!diagnostics.hasErrors, "\(diagnostics)")
            if name == "servers.mcp.json" {
                #expect(servers.map(\.name) == ["crm", "billing"])
            } else {
                // A client's config registers persona-shim itself: read as a --servers file, that entry is skipped.
                #expect(servers.isEmpty)
                #expect(diagnostics.contains { $0.message.contains("starts persona-shim itself") })
            }
        }

        @Test func theBundledServersFileWorksFromAClone() throws {
            let persona =
                #"{"persona":"p","purpose":"p","owner":"o","reviewBy":"2099-01-01","tools":{"allow":["crm__get_ticket"]}}"#
            let servers = Self.root.appendingPathComponent("Examples/servers.mcp.json").path
            let shim = try ShimProcess(persona: persona, arguments: ["--servers", servers])
            try shim.initialize()
            #expect(try shim.toolNames() == ["crm__get_ticket"])
            let ticket = shim.call("crm__get_ticket", ["ticketId": "T-1042"])
            #expect(ticket?["result"]?["content"]?[0]?["text"]?.stringValue?.contains("T-1042") == true)
        }

        @Test func theGitReaderPersonaChecksWithAWrappedServer() throws {
            let path = Self.root.appendingPathComponent("Personas/git-reader.json").path
            let result = PersonaLoader.load(
                path: path, extraServers: [ServerSpec(name: "git", command: ChildCommand(executable: "uvx"))])
            #expect(!result.diagnostics.hasErrors, "\(result.diagnostics)")
        }
    }
}
