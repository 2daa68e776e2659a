import Platform

/// The command line: `main.swift` hands over the arguments and exits with what this returns.
public enum PersonaShimCLI {
    public static let version = "0.1.0"

    /// Exit codes in the BSD `sysexits` tradition.
    public enum ExitCode {
        public static let success: Int32 = 0
        public static let failure: Int32 = 1
        public static let usage: Int32 = 64
        public static let dataError: Int32 = 65
        public static let software: Int32 = 70
    }

    public static func main(_ arguments: [String]) -> Int32 {
        defer { StandardErrorSink.shared.drain(seconds: 1) }
        var rest = Array(arguments.dropFirst())
        guard let first = rest.first else {
            return usageError("missing a command or --persona")
        }
        switch first {
        case "-h", "--help":
            print(HelpText.main)
            return ExitCode.success
        case "help":
            return HelpCommand.run(Array(rest.dropFirst()))
        case "--version", "version":
            print("persona-shim \(version)")
            return ExitCode.success
        case "run":
            rest.removeFirst()
            return RunCommand.run(rest)
        case "check":
            return CheckCommand.run(Array(rest.dropFirst()))
        case "tools":
            return ToolsCommand.run(Array(rest.dropFirst()))
        case "digest":
            return DigestCommand.run(Array(rest.dropFirst()))
        case "demo":
            return DemoCommand.run(Array(rest.dropFirst()))
        case "approvals":
            return ApprovalsCommand.run(Array(rest.dropFirst()))
        case "approve", "deny":
            return ApproveCommand.run(Array(rest.dropFirst()), approve: first == "approve")
        case "kill", "unkill":
            return KillCommand.run(Array(rest.dropFirst()), lifting: first == "unkill")
        default:
            if first.hasPrefix("-") { return RunCommand.run(rest) }
            return usageError("unknown command \"\(first)\"" + suggestion(for: first, in: HelpText.commands))
        }
    }

    /// Prints a usage error the way Unix tools do and returns 64.
    package static func usageError(_ message: String, command: String? = nil) -> Int32 {
        let help = command.map { "persona-shim \($0) --help" } ?? "persona-shim --help"
        Logger.writeLine("persona-shim: error: \(message)\nRun '\(help)' for usage.")
        return ExitCode.usage
    }

    static func suggestion(for word: String, in candidates: [String]) -> String {
        closestMatch(to: word, in: candidates).map { " (did you mean \"\($0)\"?)" } ?? ""
    }

    /// The path of this very binary.
    static var selfExecutable: String {
        OS.executablePath() ?? CommandLine.arguments[0]
    }
}

/// A small option parser: `--flag`, `--option value`, `--option=value`, and everything after `--`.
struct ParsedArguments {
    var options: [String: String] = [:]
    var flags: Set<String> = []
    var positional: [String] = []
    var afterDashes: [String]?

    enum Failure: Error { case message(String) }

    init(_ arguments: [String], options known: Set<String>, flags knownFlags: Set<String> = []) throws(Failure) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                afterDashes = Array(arguments[index...])
                return
            }
            guard argument.hasPrefix("-") && argument.count > 1 else {
                positional.append(argument)
                continue
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if knownFlags.contains(name) {
                flags.insert(name)
            } else if known.contains(name) {
                if let inlineValue {
                    options[name] = inlineValue
                } else {
                    guard index < arguments.count else { throw .message("option \(name) needs a value") }
                    options[name] = arguments[index]
                    index += 1
                }
            } else {
                let hint = PersonaShimCLI.suggestion(for: name, in: Array(known) + Array(knownFlags))
                throw .message("unknown option \"\(name)\"\(hint)")
            }
        }
    }
}
