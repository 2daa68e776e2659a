#if canImport(Glibc)
    import Glibc
#endif

/// `persona-shim run`: the shim itself.
enum RunCommand {
    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(
                arguments, options: ["--persona", "--servers", "--audit", "--name"], flags: ["-h", "--help"])
        } catch {
            guard case .message(let message) = error else { return 64 }
            return PersonaShimCLI.usageError(message, command: "run")
        }
        if parsed.flags.contains("-h") || parsed.flags.contains("--help") {
            print(HelpText.run)
            return PersonaShimCLI.ExitCode.success
        }
        guard parsed.positional.isEmpty else {
            return PersonaShimCLI.usageError(
                "unexpected argument \"\(parsed.positional[0])\"; put a server command after --", command: "run")
        }
        guard let personaPath = parsed.options["--persona"] else {
            return PersonaShimCLI.usageError("missing --persona FILE", command: "run")
        }
        let logger = Logger.fromEnvironment(ProcessEnvironment.current())
        if let refusal = NestingDepth.refusal(ProcessEnvironment.current()) {
            logger.error(refusal)
            return PersonaShimCLI.ExitCode.failure
        }
        var extraServers: [ServerSpec] = []
        if let serversPath = parsed.options["--servers"] {
            let (servers, diagnostics) = PersonaLoader.loadServersFile(path: serversPath)
            diagnostics.forEach { Logger.writeLine($0.description) }
            if diagnostics.hasErrors { return PersonaShimCLI.ExitCode.dataError }
            extraServers += servers
        }
        if let command = parsed.afterDashes {
            guard let executable = command.first else {
                return PersonaShimCLI.usageError("expected a server command after --", command: "run")
            }
            let name =
                parsed.options["--name"] ?? ToolNaming.sanitize(Paths.lastComponent(executable))
            let cwd = Paths.currentDirectory()
            let resolved = executable.contains("/") ? PersonaLoader.resolvePath(executable, base: cwd) : executable
            extraServers.append(
                ServerSpec(
                    name: name, command: ChildCommand(executable: resolved, arguments: Array(command.dropFirst()))))
        } else if parsed.options["--name"] != nil {
            return PersonaShimCLI.usageError("--name names a server command given after --", command: "run")
        }
        let result = PersonaLoader.load(path: personaPath, extraServers: extraServers)
        result.diagnostics.forEach { Logger.writeLine($0.description) }
        guard let persona = result.persona else {
            logger.error(
                "the persona could not be loaded; no tool calls will be served. Fix it (try 'persona-shim check \(personaPath)')."
            )
            return PersonaShimCLI.ExitCode.dataError
        }
        let auditPath =
            parsed.options["--audit"].map {
                PersonaLoader.resolvePath($0, base: Paths.currentDirectory())
            }
            ?? persona.audit.path ?? AuditLog.defaultPath()
        if let problem = AuditFile.problem(with: auditPath) {
            logger.error(problem)
            return PersonaShimCLI.ExitCode.dataError
        }
        let configuration = ShimConfiguration(
            persona: persona, auditPath: auditPath, selfExecutable: PersonaShimCLI.selfExecutable,
            environment: NestingDepth.forChildren(ProcessEnvironment.current()), logger: logger,
            version: PersonaShimCLI.version)
        logger.debug("persona \(persona.name), \(persona.servers.count) servers, audit \(auditPath)")
        return ShimSession(configuration: configuration).run()
    }
}
