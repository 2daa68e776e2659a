/// What every request for one tool, prompt or resource shares, made once: its audit subject
/// (`,"server":…,"method":…,"tool":…`, with `method` for everything but tools) and, where the persona allows the
/// entry, its allow decision (`,"decision":"allow","rule":…,"reason":…`). A class, so that handing it along the hot
/// path is one retain.
final class RecordedEntry {
    let subject: [UInt8]
    let allow: [UInt8]?
    let server: String
    let serverIndex: Int
    /// The server's own name for the entry, and the same as a JSON string (empty where nothing is renamed).
    let tool: String
    let originalName: [UInt8]
    /// The persona's verdict on a catalog entry, made when the catalog was built.
    let known: PolicyDecision?
    /// The plain `server__tool` when the exposed name differs from it (see `PolicySubject.aliases`).
    let aliases: [String]
    /// The persona's per-call rules for this tool, worked out once (nil: the persona has none).
    let callPolicy: ToolCallPolicy?
    var isVisible: Bool { known?.verdict == .allow }

    init(
        server: String, serverIndex: Int, method: String, subject: RequestSubject, name: String, tool: String,
        originalName: [UInt8] = [], known: PolicyDecision? = nil, aliases: [String] = [],
        callPolicy: ToolCallPolicy? = nil
    ) {
        self.callPolicy = callPolicy
        self.server = server
        self.serverIndex = serverIndex
        self.tool = tool
        self.originalName = originalName
        self.known = known
        self.aliases = aliases
        self.subject = AuditFields.encode { fields in
            fields.add("server", server)
            if subject != .tool { fields.add("method", method) }
            fields.add(subject.auditField, name)
        }
        if let known, known.verdict == .allow {
            allow = AuditFields.encode { decision in
                decision.add("decision", "allow")
                decision.add("rule", known.rule)
                decision.add("reason", known.reason)
            }
        } else {
            allow = nil
        }
    }
}
