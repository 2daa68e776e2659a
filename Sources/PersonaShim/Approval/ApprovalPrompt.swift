/// What a person reads and answers when a call needs approval in the agent's client: the question as plain text,
/// the yes/no form, and how an answer is read. The same text goes out in both eras (an `elicitation/create` request,
/// or an elicitation input request in an `input_required` result).
enum ApprovalPrompt {
    /// The form's one field: only `true` approves.
    static let answerField = "approve"
    /// The key of the shim's question in an `input_required` result's `inputRequests` (and in the retry's
    /// `inputResponses`).
    static let inputKey = "persona-shim-approval"
    /// Arguments up to this size are shown whole; past it, each text value longer than `longValueBytes` is shown as
    /// its length and SHA-256 digest, and the message says so.
    static let wholeArgumentsBytes = 16 * 1024
    static let longValueBytes = 512

    static func message(_ question: ApprovalQuestion) -> String {
        let (arguments, abbreviated) = displayedArguments(question.arguments)
        var lines = [
            "persona-shim asks for your approval. The agent working under the persona \"\(sanitized(question.persona))\" wants to call the tool \"\(sanitized(question.tool))\" on the server \"\(sanitized(question.server))\".",
            "Why a person must say yes: \(sanitized(question.reason)) (rule \(sanitized(question.rule))).",
            "The complete arguments, as canonical JSON (\(question.argumentsDigest)):",
            arguments,
        ]
        if abbreviated {
            lines.append(
                "Text values longer than \(longValueBytes) bytes are shown as their length and SHA-256 digest; the digest above covers the arguments exactly as they will run."
            )
        }
        lines.append(
            "Approve only this one call, with exactly these arguments. Without a yes within \(question.timeoutSeconds) seconds it is refused."
        )
        return lines.joined(separator: "\n")
    }

    /// The `elicitation/create` params: form mode (named only on revisions that have modes), one required boolean.
    static func elicitation(_ question: ApprovalQuestion, namesMode: Bool) -> JSONValue {
        let field: JSONValue = [
            "type": "boolean", "title": "Approve this call",
            "description": "Yes lets this one call run once, with exactly the arguments shown.", "default": false,
        ]
        var params = JSONObject()
        if namesMode { params["mode"] = "form" }
        params["message"] = .string(message(question))
        params["requestedSchema"] = [
            "type": "object", "properties": .object(JSONObject([(answerField, field)])),
            "required": [.string(answerField)],
        ]
        return .object(params)
    }

    /// Reads an elicitation result (or a JSON-RPC error in its place). `by` is who answered, for the audit.
    static func answer(result: JSONValue?, error: JSONValue?, by: String) -> ApprovalAnswer {
        if let error {
            let code = error["code"].map { "\($0)" } ?? "without a code"
            let text = error["message"]?.stringValue.map { ": \(sanitized($0))" } ?? ""
            return .failed(by: by, reason: "the client answered with error \(code)\(text)")
        }
        guard case .object(let result)? = result, case .string(let action)? = result["action"] else {
            return .failed(by: by, reason: "the client's answer was malformed (no \"action\")")
        }
        switch action {
        case "accept":
            switch result["content"]?[answerField] {
            case .bool(true)?: return .approved(by: by, how: "elicitation accepted with \(answerField)=true")
            case .bool(false)?: return .denied(by: by, how: "elicitation accepted with \(answerField)=false")
            default:
                return .failed(
                    by: by, reason: "the client's answer was malformed (accepted without a boolean \"\(answerField)\")")
            }
        case "decline": return .denied(by: by, how: "elicitation declined")
        case "cancel": return .denied(by: by, how: "elicitation cancelled")
        default: return .failed(by: by, reason: "the client's answer was malformed (action \"\(sanitized(action))\")")
        }
    }

    /// The canonical arguments as shown, and whether long values were replaced by their digest.
    static func displayedArguments(_ canonical: [UInt8]) -> (String, Bool) {
        guard canonical.count > wholeArgumentsBytes,
            let value = try? JSONValue(parsing: String(decoding: canonical, as: UTF8.self))
        else { return (sanitized(String(decoding: canonical, as: UTF8.self)), false) }
        func abbreviate(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let text) where text.utf8.count > longValueBytes:
                return .string("<\(text.utf8.count) bytes, sha256:\(SHA256.hash(Array(text.utf8)).hexString)>")
            case .array(let items): return .array(items.map(abbreviate))
            case .object(let object):
                return .object(JSONObject(object.members.map { ($0.key, abbreviate($0.value)) }))
            default: return value
            }
        }
        return (sanitized(JSONWriter.string(abbreviate(value), canonical: true)), true)
    }

    /// `text` with every character a person cannot see, or that moves what follows it, written as a JSON escape
    /// (`\u202e`): controls, bidirectional marks, zero-width characters, line and paragraph separators, tag
    /// characters. Inside the canonical arguments an escape means the same string, so nothing shown is changed.
    static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isHidden) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            guard isHidden(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out
    }

    /// Whether a person could miss `scalar` or be misled by it: controls, format characters (bidirectional marks,
    /// zero-width and tag characters), separators, private-use and unassigned code points, and the characters that
    /// draw nothing though Unicode files them as letters or marks (Hangul fillers, variation selectors, the
    /// combining grapheme joiner, the Braille blank).
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            break
        }
        switch scalar.value {
        case 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x2800, 0x3164, 0xFE00...0xFE0F, 0xFFA0,
            0xE0100...0xE01EF:
            return true
        default:
            return false
        }
    }
}
