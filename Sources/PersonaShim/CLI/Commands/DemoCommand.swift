import Platform

/// `persona-shim demo`: the canonical case, played by a scripted agent against the real shim binary.
enum DemoCommand {
    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(
                arguments, options: ["--persona", "--audit"], flags: ["--json", "-h", "--help"])
        } catch {
            guard case .message(let message) = error else { return 64 }
            return PersonaShimCLI.usageError(message, command: "demo")
        }
        if parsed.flags.contains("-h") || parsed.flags.contains("--help") {
            print(HelpText.demo)
            return PersonaShimCLI.ExitCode.success
        }
        guard let personaPath = parsed.options["--persona"] ?? findBundledPersona() else {
            Logger.writeLine(
                "persona-shim: error: cannot find Personas/support-reader.json; run the demo from the repository, or pass --persona FILE"
            )
            return PersonaShimCLI.ExitCode.failure
        }
        // The audit file stays after the demo, so the user can open what the session wrote.
        let auditPath: String
        if let given = parsed.options["--audit"] {
            auditPath = PersonaLoader.resolvePath(given, base: Paths.currentDirectory())
        } else if let folder = Files.makeTemporaryDirectory(prefix: "persona-shim-demo-") {
            auditPath = folder + "/audit.jsonl"
        } else {
            Logger.writeLine(
                "persona-shim: error: cannot create a temporary folder for the demo's audit file; give --audit FILE")
            return PersonaShimCLI.ExitCode.failure
        }
        var script = DemoScript(
            personaPath: personaPath, auditPath: auditPath, rawAudit: parsed.flags.contains("--json"))
        return script.play()
    }

    /// `Personas/support-reader.json` above the current directory or above this binary (in `.build/...`).
    static func findBundledPersona() -> String? {
        let starts = [
            Paths.currentDirectory(),
            Paths.directory(of: PersonaShimCLI.selfExecutable),
        ]
        for start in starts {
            var folder = start
            for _ in 0..<8 {
                let candidate = folder + "/Personas/support-reader.json"
                if Files.exists(candidate) { return candidate }
                folder = Paths.directory(of: folder)
            }
        }
        return nil
    }
}
