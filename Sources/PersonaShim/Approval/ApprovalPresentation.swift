/// How a question is shown to a person: every argument whole, and nothing in it that could redraw the terminal
/// or reorder text (control and format characters, bidirectional overrides) shown as anything but an escape.
enum ApprovalPresentation {
    /// The arguments as indented JSON, made safe to print; `limit` cuts a one-line summary (never the approval view).
    static func arguments(_ question: ApprovalQuestion, limit: Int? = nil) -> String {
        guard let limit else {
            let value =
                (try? JSONValue(parsing: question.arguments))
                ?? .string(String(decoding: question.arguments, as: UTF8.self))
            return sanitised(JSONWriter.pretty(value), keepingNewlines: true)
        }
        let line = sanitised(String(decoding: question.arguments, as: UTF8.self), keepingNewlines: false)
        return line.count <= limit
            ? line : String(line.prefix(limit)) + "… (\(question.arguments.count) bytes; approve shows them all)"
    }

    static func sanitised(_ text: String, keepingNewlines: Bool) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if keepingNewlines && scalar == "\n" {
                result.unicodeScalars.append(scalar)
                continue
            }
            if ApprovalPrompt.isHidden(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// The full question, as `persona-shim approve` prints it on the terminal.
    static func full(_ question: ApprovalQuestion) -> String {
        let lines = [
            "A call is waiting for your approval.",
            "",
            "  persona    \(sanitised(question.persona, keepingNewlines: false))",
            "  server     \(sanitised(question.server, keepingNewlines: false))",
            "  tool       \(sanitised(question.tool, keepingNewlines: false))",
            "  rule       \(sanitised(question.rule, keepingNewlines: false)): \(sanitised(question.reason, keepingNewlines: false))",
            "  session    \(sanitised(question.session, keepingNewlines: false))",
            "  digest     \(sanitised(question.argumentsDigest, keepingNewlines: false))",
            "  arguments  (exactly what will run, \(question.arguments.count) bytes)",
        ]
        let arguments = arguments(question).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        return (lines + arguments).joined(separator: "\n")
    }
}
