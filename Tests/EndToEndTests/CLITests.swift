import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    @Suite struct CommandLine {
        @Test(arguments: [
            ["--help"], ["help"], ["run", "--help"], ["check", "--help"], ["demo", "--help"], ["help", "check"],
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
            #expect(result.stdout.contains("DENIED  error -32602: Unknown tool: billing__adjust_balance"))
            #expect(result.stdout.contains("the persona held"))
        }
    }
}
