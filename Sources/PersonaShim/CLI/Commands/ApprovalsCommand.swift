import Platform

/// `persona-shim approvals`: the questions every running shim of this user is waiting on.
enum ApprovalsCommand {
    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(HelpText.approvals)
            return PersonaShimCLI.ExitCode.success
        }
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, options: [], flags: ["--json"])
        } catch {
            guard case .message(let message) = error else { return PersonaShimCLI.ExitCode.usage }
            return PersonaShimCLI.usageError(message, command: "approvals")
        }
        guard parsed.positional.isEmpty else {
            return PersonaShimCLI.usageError("approvals takes no arguments", command: "approvals")
        }
        let directory = ApprovalDirectory.path(environment: ProcessEnvironment.current())
        if case .failure(let error) = ApprovalDirectory.check(directory), Files.exists(directory) {
            Logger.writeLine("persona-shim: error: \(error)")
            return PersonaShimCLI.ExitCode.failure
        }
        let found = ApprovalClient.pendingQuestions(directory: directory)
        if parsed.flags.contains("--json") {
            print(JSONWriter.string(["questions": .array(found.map(\.question.json))]))
            return PersonaShimCLI.ExitCode.success
        }
        guard !found.isEmpty else {
            print("No call is waiting for approval.")
            return PersonaShimCLI.ExitCode.success
        }
        for entry in found {
            let question = entry.question
            // Names and sentences come from personas and servers: shown with anything unprintable escaped.
            func shown(_ text: String) -> String { ApprovalPresentation.sanitised(text, keepingNewlines: false) }
            print(
                "\(shown(question.id))  \(shown(question.persona))  \(shown(question.tool))  (rule \(shown(question.rule)))"
            )
            print("    \(shown(question.reason))")
            print("    arguments \(ApprovalPresentation.arguments(question, limit: 200))")
        }
        print("\nApprove one with 'persona-shim approve ID' at a terminal, or refuse it with 'persona-shim deny ID'.")
        return PersonaShimCLI.ExitCode.success
    }
}
