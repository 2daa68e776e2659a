import Platform

/// `persona-shim check FILE [--servers FILE] [--name NAME] [-- COMMAND ARGS...]`: validate a persona like a compiler
/// would, with the same server options as `run` so that a persona written for a wrapped server can be checked.
enum CheckCommand {
    static func run(_ arguments: [String]) -> Int32 {
        let given: PersonaArguments
        switch PersonaArguments.parse(
            arguments, command: "check", flags: ["--effective"], help: HelpText.check, what: "to check")
        {
        case .ready(let ready): given = ready
        case .exit(let code): return code
        }
        let (path, serverOptions) = (given.path, given.serverOptions)
        var diagnostics = serverOptions.diagnostics
        if let note = serverOptions.derivedNameNote { diagnostics.append(Diagnostic(.note, note, file: path)) }
        let result = PersonaLoader.load(
            path: path, extraServers: serverOptions.servers, serversSource: serverOptions.source)
        diagnostics += result.diagnostics
        if let persona = result.persona {
            diagnostics += commandDiagnostics(persona, file: path)
            diagnostics += patternDiagnostics(persona, file: path)
        }
        diagnostics.forEach { Logger.writeLine($0.description) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        guard let persona = result.persona, errors == 0 else {
            print("\(path): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            return PersonaShimCLI.ExitCode.failure
        }
        if given.parsed.flags.contains("--effective") {
            return printEffective(persona, result.effective ?? JSONObject())
        }
        let expiry = persona.expires.map { ", expires \($0)" } ?? ""
        print(
            "\(path): persona \"\(persona.name)\" is valid: \(persona.servers.count) server\(persona.servers.count == 1 ? "" : "s"), "
                + "\(persona.tools.allow.count) allow and \(persona.tools.deny.count) deny pattern\(persona.tools.deny.count == 1 ? "" : "s")"
                + "\(expiry), \(warnings) warning\(warnings == 1 ? "" : "s")")
        return PersonaShimCLI.ExitCode.success
    }

    /// `--effective`: the persona as enforced, one document with no `extends` (stdout), and its digest and the files
    /// it was read from (stderr), so that the JSON can be piped as it is.
    static func printEffective(_ persona: Persona, _ effective: JSONObject) -> Int32 {
        print(JSONWriter.pretty(.object(effective)))
        Logger.writeLine("persona digest \(persona.digest), read from \(persona.sourceFiles.joined(separator: ", "))")
        return PersonaShimCLI.ExitCode.success
    }

    /// Warns about allow patterns that cannot match any tool of the persona's servers.
    static func patternDiagnostics(_ persona: Persona, file: String) -> [Diagnostic] {
        let servers = persona.servers.map(\.name)
        return persona.tools.allow.compactMap { pattern in
            UnmatchedPatterns.reasonNeverMatches(pattern, servers: servers).map {
                Diagnostic(.warning, "tools.allow: " + $0, file: file)
            }
        }
    }

    /// Warns about server commands that cannot be found, which would leave their tools missing at run time.
    static func commandDiagnostics(_ persona: Persona, file: String) -> [Diagnostic] {
        let environment = ChildEnvironment.build(parent: ProcessEnvironment.current(), declared: [:])
        return persona.servers.compactMap { server in
            let command = server.command
            if command.executable == "persona-shim" { return nil }
            let path = (command.environment["PATH"] ?? environment["PATH"]) ?? "/usr/bin:/bin"
            guard
                ExecutableResolver.resolve(
                    command.executable, searchPath: path, workingDirectory: command.workingDirectory) == nil
            else { return nil }
            return Diagnostic(
                .warning,
                "server \"\(server.name)\": command \"\(command.executable)\" was not found (PATH \(path)); its tools will be missing",
                file: file)
        }
    }
}
