import Platform

/// `persona-shim tools PERSONA [--servers FILE] [--name NAME] [-- COMMAND ARGS...] [--json]`: what a persona
/// exposes, without an agent. It starts the servers, lists their tools and judges each with the same catalog the
/// shim builds, so a verdict here is the verdict `run` gives.
enum ToolsCommand {
    static func run(_ arguments: [String]) -> Int32 {
        let given: PersonaArguments
        switch PersonaArguments.parse(
            arguments, command: "tools", flags: ["--json"], help: HelpText.tools, what: "whose tools to list")
        {
        case .ready(let ready): given = ready
        case .exit(let code): return code
        }
        let (parsed, path, serverOptions) = (given.parsed, given.path, given.serverOptions)
        serverOptions.diagnostics.forEach { Logger.writeLine($0.description) }
        if serverOptions.diagnostics.hasErrors { return PersonaShimCLI.ExitCode.dataError }
        if let note = serverOptions.derivedNameNote { Logger.writeLine("persona-shim: " + note) }
        let loaded = PersonaLoader.load(
            path: path, extraServers: serverOptions.servers, serversSource: serverOptions.source)
        loaded.diagnostics.forEach { Logger.writeLine($0.description) }
        guard let persona = loaded.persona else {
            Logger.writeLine("persona-shim: error: the persona could not be loaded; see 'persona-shim check \(path)'")
            return PersonaShimCLI.ExitCode.dataError
        }
        CheckCommand.patternDiagnostics(persona, file: path).forEach { Logger.writeLine($0.description) }
        // A server that exits before reading the handshake must be reported as failed, not end this command:
        // without this, writing `initialize` into its closed pipe kills the process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let environment = ProcessEnvironment.current()
        let outcomes = persona.servers.map { server in
            ServerProbe.listTools(
                server, selfExecutable: PersonaShimCLI.selfExecutable, environment: environment,
                timeout: persona.timeouts.initializeSeconds)
        }
        let report = ToolsReport(persona: persona, outcomes: outcomes)
        if parsed.flags.contains("--json") {
            print(JSONWriter.string(report.json))
        } else {
            report.printText()
        }
        for outcome in outcomes {
            if let failure = outcome.failure {
                Logger.writeLine("persona-shim: error: server \"\(outcome.server)\" \(failure)")
            }
        }
        return outcomes.contains { $0.failure != nil }
            ? PersonaShimCLI.ExitCode.failure : PersonaShimCLI.ExitCode.success
    }
}

/// The verdicts on every tool, the patterns that found nothing, and what the filtering saves the agent's context.
struct ToolsReport {
    let persona: Persona
    let outcomes: [ServerProbe.Outcome]
    let catalog: ToolCatalog
    let unmatched: [Glob]
    let visibleBytes: Int
    let allBytes: Int

    init(persona: Persona, outcomes: [ServerProbe.Outcome]) {
        self.persona = persona
        self.outcomes = outcomes
        let ready = outcomes.compactMap { outcome in outcome.tools.map { (outcome.server, $0) } }
        catalog = ToolCatalog(tools: ready.map { ($0.0, $0.1) }, policy: PolicyEngine(persona: persona))
        unmatched = UnmatchedPatterns.find(allow: persona.tools.allow, exposedNames: catalog.entries.map(\.exposedName))
        func size(_ entries: [ToolCatalog.Entry]) -> Int {
            JSONWriter.encode(.object(JSONObject([("tools", .array(entries.map { .object($0.definition) }))]))).count
        }
        visibleBytes = size(catalog.visible)
        allBytes = size(catalog.entries)
    }

    static func tokens(_ bytes: Int) -> Int { (bytes + 3) / 4 }

    func printText() {
        let visible = catalog.visible.count
        print(
            "persona \"\(persona.name)\": \(outcomes.count) server\(outcomes.count == 1 ? "" : "s"), "
                + "\(catalog.entries.count) tool\(catalog.entries.count == 1 ? "" : "s"), \(visible) visible to the agent"
        )
        let width = min(48, catalog.entries.map(\.exposedName.count).max() ?? 0)
        for outcome in outcomes {
            print("")
            guard outcome.failure == nil else {
                print("\(outcome.server): FAILED to start: \(outcome.failure ?? "")")
                continue
            }
            let entries = catalog.entries.filter { $0.server == outcome.server }
            print("\(outcome.server): \(entries.count) tool\(entries.count == 1 ? "" : "s")")
            for entry in entries {
                let padding = String(repeating: " ", count: max(0, width - entry.exposedName.count))
                let verdict = entry.isVisible ? "visible" : "hidden "
                print("  \(verdict)  \(entry.exposedName)\(padding)  \(ruleText(entry.scope))")
            }
        }
        print("")
        if unmatched.isEmpty {
            print("Every allow pattern matched at least one tool.")
        } else {
            print("Allow patterns that matched no tool: " + unmatched.map { "\"\($0)\"" }.joined(separator: ", "))
        }
        if visible == 0 { print("The agent will see no tools at all.") }
        print(
            "Tool list the agent sees: \(visible) of \(catalog.entries.count) tools, \(visibleBytes) bytes (~\(Self.tokens(visibleBytes)) tokens); "
                + "unfiltered: \(allBytes) bytes (~\(Self.tokens(allBytes)) tokens). "
                + "The persona keeps ~\(Self.tokens(allBytes) - Self.tokens(visibleBytes)) tokens out of the agent's context."
        )
    }

    func ruleText(_ decision: PolicyDecision) -> String {
        decision.rule == "default-deny" ? "default-deny (no allow pattern matches)" : decision.rule
    }

    var json: JSONValue {
        let servers = outcomes.map { outcome -> JSONValue in
            var object = JSONObject([
                ("name", .string(outcome.server)), ("status", .string(outcome.failure == nil ? "ready" : "failed")),
                ("tools", .integer(catalog.entries.filter { $0.server == outcome.server }.count)),
            ])
            if let failure = outcome.failure { object["reason"] = .string(failure) }
            return .object(object)
        }
        let tools = catalog.entries.map { entry -> JSONValue in
            .object(
                JSONObject([
                    ("name", .string(entry.exposedName)), ("server", .string(entry.server)),
                    ("tool", .string(entry.tool)), ("visible", .bool(entry.isVisible)),
                    ("rule", .string(entry.scope.rule)), ("reason", .string(entry.scope.reason)),
                ]))
        }
        func size(_ count: Int, _ bytes: Int) -> JSONValue {
            .object(
                JSONObject([
                    ("tools", .integer(count)), ("bytes", .integer(bytes)),
                    ("approxTokens", .integer(Self.tokens(bytes))),
                ]))
        }
        return .object(
            JSONObject([
                ("persona", .string(persona.name)), ("personaFile", persona.sourcePath.map(JSONValue.string) ?? .null),
                ("servers", .array(servers)), ("tools", .array(tools)),
                ("unmatchedAllowPatterns", .array(unmatched.map { .string($0.pattern) })),
                ("visibleList", size(catalog.visible.count, visibleBytes)),
                ("unfilteredList", size(catalog.entries.count, allBytes)),
            ]))
    }
}
