import Platform

/// `persona-shim run`: the shim itself.
enum RunCommand {
    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(
                arguments, options: ServerOptions.optionNames.union(["--persona", "--audit"]), flags: ["-h", "--help"])
        } catch {
            guard case .message(let message) = error else { return 64 }
            return PersonaShimCLI.usageError(message, command: "run")
        }
        if parsed.flags.contains("-h") || parsed.flags.contains("--help") {
            print(HelpText.run)
            return PersonaShimCLI.ExitCode.success
        }
        guard parsed.positional.isEmpty else {
            let given = parsed.positional[0]
            let hint =
                given.hasSuffix(".json") && parsed.options["--persona"] == nil
                ? "; give the persona as --persona \(given)" : "; put a server command after --"
            return PersonaShimCLI.usageError("unexpected argument \"\(given)\"\(hint)", command: "run")
        }
        guard let personaPath = parsed.options["--persona"] else {
            return PersonaShimCLI.usageError("missing --persona FILE", command: "run")
        }
        let logger = Logger.fromEnvironment(ProcessEnvironment.current())
        if let refusal = NestingDepth.refusal(ProcessEnvironment.current()) {
            logger.error(refusal)
            return PersonaShimCLI.ExitCode.failure
        }
        let serverOptions: ServerOptions
        do {
            serverOptions = try ServerOptions(parsed)
        } catch {
            guard case .message(let message) = error else { return 64 }
            return PersonaShimCLI.usageError(message, command: "run")
        }
        serverOptions.diagnostics.forEach { Logger.writeLine($0.description) }
        if serverOptions.diagnostics.hasErrors { return PersonaShimCLI.ExitCode.dataError }
        if let note = serverOptions.derivedNameNote { logger.info(note) }
        if isatty(0) == 1 {
            // Started by hand in a terminal, it would otherwise sit silently waiting for an agent's messages.
            Logger.writeLine(
                "persona-shim: waiting for an agent: persona-shim speaks MCP on stdin/stdout, so an agent (an MCP client) starts it. To see what this persona exposes, run 'persona-shim tools \(personaPath)'; see 'persona-shim --help'. Press Ctrl-D to quit."
            )
        }
        let result = PersonaLoader.load(
            path: personaPath, extraServers: serverOptions.servers, serversSource: serverOptions.source)
        result.diagnostics.forEach { Logger.writeLine($0.description) }
        guard let persona = result.persona else {
            logger.error(
                "the persona could not be loaded; no tool calls will be served. Fix it (try 'persona-shim check \(personaPath)')."
            )
            return PersonaShimCLI.ExitCode.dataError
        }
        CheckCommand.patternDiagnostics(persona, file: personaPath).forEach { Logger.writeLine($0.description) }
        let auditPath =
            parsed.options["--audit"].map {
                PersonaLoader.resolvePath($0, base: Paths.currentDirectory())
            }
            ?? persona.audit.path ?? AuditLog.defaultPath()
        if let problem = AuditFile.problem(with: auditPath) {
            logger.error(problem)
            return PersonaShimCLI.ExitCode.dataError
        }
        var configuration = ShimConfiguration(
            persona: persona, auditPath: auditPath, selfExecutable: PersonaShimCLI.selfExecutable,
            environment: NestingDepth.forChildren(ProcessEnvironment.current()), logger: logger,
            version: PersonaShimCLI.version)
        if persona.callPolicy.limits.contains(where: \.acrossSessions) {
            // Counts shared by every session of this persona on the machine, under the user's state directory.
            configuration.sharedLimits = FileLimitStore(
                directory: FileLimitStore.defaultDirectory(ProcessEnvironment.current()), persona: persona.name)
        }
        configuration.killDirectories = [
            KillSwitch.defaultDirectory(ProcessEnvironment.current()),
            KillSwitch.machineDirectory(ProcessEnvironment.current()),
        ]
        configuration.reloadSource = PersonaReloadSource(
            path: personaPath, extraServers: serverOptions.servers, serversSource: serverOptions.source)
        logger.debug("persona \(persona.name), \(persona.servers.count) servers, audit \(auditPath)")
        // The shim holds what an agent must not reach (approval codes, the persona in force, the audit's state):
        // another process of the user, the agent's shell tool, may not trace it or read its memory.
        OS.forbidTracing()
        return ShimSession(configuration: configuration).run()
    }
}
