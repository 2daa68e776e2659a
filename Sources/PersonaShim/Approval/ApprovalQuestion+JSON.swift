/// The question as one JSON object: what the approval command reads on stdin, and what `persona-shim approvals`
/// lists and `persona-shim approve` shows. `arguments` is the call's arguments as JSON (the canonical bytes that
/// will execute); everything else is a string or a number.
extension ApprovalQuestion {
    public var json: JSONValue {
        let arguments =
            (try? JSONValue(parsing: self.arguments)) ?? .string(String(decoding: self.arguments, as: UTF8.self))
        return .object(
            JSONObject([
                ("id", .string(id)),
                ("session", .string(session)),
                ("persona", .string(persona)),
                ("server", .string(server)),
                ("tool", .string(tool)),
                ("arguments", arguments),
                ("argumentsDigest", .string(argumentsDigest)),
                ("rule", .string(rule)),
                ("reason", .string(reason)),
                ("timeoutSeconds", .integer(timeoutSeconds)),
            ]))
    }

    /// The JSON line the approval command reads on stdin.
    public var jsonLine: [UInt8] { JSONWriter.encode(json) + [UInt8(ascii: "\n")] }

    /// Reads a question back from `json` (what a shim's rendezvous socket lists); nil if a field is missing.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let session = json["session"]?.stringValue,
            let persona = json["persona"]?.stringValue, let server = json["server"]?.stringValue,
            let tool = json["tool"]?.stringValue, let arguments = json["arguments"],
            let digest = json["argumentsDigest"]?.stringValue, let rule = json["rule"]?.stringValue,
            let reason = json["reason"]?.stringValue, let timeout = json["timeoutSeconds"]?.intValue
        else { return nil }
        self.init(
            id: id, session: session, persona: persona, server: server, tool: tool,
            arguments: JSONWriter.encode(arguments, canonical: true), argumentsDigest: digest, rule: rule,
            reason: reason, timeoutSeconds: timeout)
    }
}
