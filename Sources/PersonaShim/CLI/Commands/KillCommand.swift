import Platform

/// `persona-shim kill PERSONA|--all [--reason TEXT]`, `persona-shim kill --status` and
/// `persona-shim unkill PERSONA|--all`: the operator's kill switch (see `KillSwitch`). Every running shim of the
/// user watches the switch's folder, so the switch takes effect in all of them as soon as the command returns.
enum KillCommand {
    static func run(_ arguments: [String], lifting: Bool) -> Int32 {
        let command = lifting ? "unkill" : "kill"
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(
                arguments, options: lifting ? [] : ["--reason"],
                flags: lifting
                    ? ["--all", "--machine", "-h", "--help"] : ["--all", "--machine", "--status", "-h", "--help"])
        } catch {
            guard case .message(let message) = error else { return PersonaShimCLI.ExitCode.usage }
            return PersonaShimCLI.usageError(message, command: command)
        }
        if parsed.flags.contains("-h") || parsed.flags.contains("--help") {
            print(lifting ? HelpText.unkill : HelpText.kill)
            return PersonaShimCLI.ExitCode.success
        }
        let environment = ProcessEnvironment.current()
        let machine = parsed.flags.contains("--machine")
        let directory =
            machine ? KillSwitch.machineDirectory(environment) : KillSwitch.defaultDirectory(environment)
        if parsed.flags.contains("--status") {
            guard parsed.positional.isEmpty, !parsed.flags.contains("--all"), !machine else {
                return PersonaShimCLI.usageError("--status takes no persona and no other option", command: command)
            }
            return status([
                ("user", KillSwitch.defaultDirectory(environment)),
                ("machine", KillSwitch.machineDirectory(environment)),
            ])
        }
        let flag = machine ? "--machine " : ""
        let all = parsed.flags.contains("--all")
        guard all ? parsed.positional.isEmpty : parsed.positional.count == 1 else {
            return PersonaShimCLI.usageError(
                all ? "give either a persona or --all, not both" : "name one persona (or give --all)", command: command)
        }
        var persona: String?
        if !all {
            switch personaName(parsed.positional[0]) {
            case .success(let name): persona = name
            case .failure(let failure): return PersonaShimCLI.usageError(failure.message, command: command)
            }
        }
        let what = persona.map { "the persona \"\($0)\"" } ?? "every persona"
        if lifting {
            switch KillSwitch.lift(directory: directory, persona: persona) {
            case .success(true): print("persona-shim: \(what) runs again: the kill switch is lifted.")
            case .success(false): print("persona-shim: \(what) was not stopped; nothing to lift.")
            case .failure(let failure):
                Logger.writeLine("persona-shim: error: \(failure.message)")
                return PersonaShimCLI.ExitCode.failure
            }
            // Another switch may still stop it: say which, and how that one is lifted.
            let lifted = directory + "/" + (persona ?? KillSwitch.everyPersona)
            for (other, otherFlag) in [
                (KillSwitch.defaultDirectory(environment), ""),
                (KillSwitch.machineDirectory(environment), "--machine "),
            ] {
                for name in [persona, KillSwitch.everyPersona].compactMap({ $0 })
                where other + "/" + name != lifted && Files.exists(other + "/" + name) {
                    let still = name == KillSwitch.everyPersona ? "every persona" : "the persona \"\(name)\""
                    let lift = "persona-shim unkill \(otherFlag)\(name == KillSwitch.everyPersona ? "--all" : name)"
                    print("persona-shim: note: \(still) is still stopped ('\(lift)' lifts that).")
                }
            }
            return PersonaShimCLI.ExitCode.success
        }
        if let problem = KillSwitch.engage(
            directory: directory, persona: persona, reason: parsed.options["--reason"], shared: machine)
        {
            Logger.writeLine("persona-shim: error: \(problem); nothing was stopped.")
            return PersonaShimCLI.ExitCode.failure
        }
        print(
            "persona-shim: \(what) is stopped: every running shim\(machine ? " of every user" : "") refuses its tool calls, prompts and resource reads until 'persona-shim unkill \(flag)\(persona ?? "--all")'."
        )
        return PersonaShimCLI.ExitCode.success
    }

    /// One line per switch that is on: who it stops, whose switch it is (user or machine), and its note.
    private static func status(_ folders: [(String, String)]) -> Int32 {
        var lines: [String] = []
        var failed = false
        for (level, directory) in folders {
            guard let engaged = KillSwitch.engaged(directory: directory) else {
                Logger.writeLine(
                    "persona-shim: error: cannot read \(directory) (\(String(cString: strerror(errno)))); running shims count that as stopped."
                )
                failed = true
                continue
            }
            for (name, note) in engaged {
                lines.append("\(name == KillSwitch.everyPersona ? "every persona" : name)\tstopped (\(level))\t\(note)")
            }
        }
        if lines.isEmpty && !failed {
            print("No persona is stopped (\(folders.map(\.1).joined(separator: ", "))).")
        }
        lines.forEach { print($0) }
        return failed ? PersonaShimCLI.ExitCode.failure : PersonaShimCLI.ExitCode.success
    }

    /// A persona's name, or the name inside a persona file given by path.
    private static func personaName(_ given: String) -> Result<String, KillSwitchError> {
        if given.hasSuffix(".json") || given.contains("/") {
            guard let persona = PersonaLoader.load(path: given).persona else {
                return .failure(
                    KillSwitchError(
                        message: "cannot read a persona name from \(given); give the persona's name instead"))
            }
            return .success(persona.name)
        }
        guard PersonaLoader.isValidName(given), given != ".", given != ".." else {
            return .failure(
                KillSwitchError(
                    message:
                        "\"\(given)\" is not a persona name (letters, digits, '.', '_' and '-', at most 64 characters)"
                ))
        }
        return .success(given)
    }
}
