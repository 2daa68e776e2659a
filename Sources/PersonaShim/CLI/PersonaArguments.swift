/// What `check` and `tools` take: one persona FILE, plus the server options `run` takes.
struct PersonaArguments {
    let parsed: ParsedArguments
    let path: String
    let serverOptions: ServerOptions

    enum Outcome {
        case ready(PersonaArguments)
        /// Parsing ended the command: help was shown, or the arguments were wrong (already said on stderr).
        case exit(Int32)
    }

    /// `what` completes "missing the persona FILE …" for a command given no file.
    static func parse(
        _ arguments: [String], command: String, flags: Set<String> = [], help: String, what: String
    ) -> Outcome {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(
                arguments, options: ServerOptions.optionNames, flags: flags.union(["-h", "--help"]))
        } catch {
            guard case .message(let message) = error else { return .exit(64) }
            return .exit(PersonaShimCLI.usageError(message, command: command))
        }
        if parsed.flags.contains("-h") || parsed.flags.contains("--help") {
            print(help)
            return .exit(PersonaShimCLI.ExitCode.success)
        }
        guard parsed.positional.count == 1, let path = parsed.positional.first else {
            let given = parsed.positional.map { "\"\($0)\"" }.joined(separator: ", ")
            return .exit(
                PersonaShimCLI.usageError(
                    parsed.positional.isEmpty
                        ? "missing the persona FILE \(what)"
                        : "\(command) takes one persona FILE, but was given \(parsed.positional.count): \(given)",
                    command: command))
        }
        do {
            return .ready(PersonaArguments(parsed: parsed, path: path, serverOptions: try ServerOptions(parsed)))
        } catch {
            guard case .message(let message) = error else { return .exit(64) }
            return .exit(PersonaShimCLI.usageError(message, command: command))
        }
    }
}
