/// The contract between the session core, which parks a call that needs a person's yes, and whoever asks the
/// person: the agent's own client (elicitation in the old era, an `input_required` result in the new one) or an
/// out-of-band channel (the persona's approval command, `persona-shim approve` / `deny` from a terminal).

/// One parked call, as the person is asked about it. Everything here may be shown to the person or handed to the
/// approval command; nothing here is secret.
public struct ApprovalQuestion: Sendable, Equatable {
    /// Random, unguessable, unique on the machine (hex); names the question in `persona-shim approve ID`.
    public var id: String
    /// The audit session the call belongs to.
    public var session: String
    public var persona: String
    public var server: String
    /// The tool as the agent named it.
    public var tool: String
    /// The call's arguments in canonical JSON: exactly the bytes that will execute if the answer is yes.
    public var arguments: [UInt8]
    /// `sha256:` of `arguments`; the audit links the approved arguments to the executed ones by it.
    public var argumentsDigest: String
    /// The rule that asked, and its sentence.
    public var rule: String
    public var reason: String
    /// How long the person has, in seconds; no answer by then refuses the call.
    public var timeoutSeconds: Int

    public init(
        id: String, session: String, persona: String, server: String, tool: String, arguments: [UInt8],
        argumentsDigest: String, rule: String, reason: String, timeoutSeconds: Int
    ) {
        self.id = id
        self.session = session
        self.persona = persona
        self.server = server
        self.tool = tool
        self.arguments = arguments
        self.argumentsDigest = argumentsDigest
        self.rule = rule
        self.reason = reason
        self.timeoutSeconds = timeoutSeconds
    }
}

/// How a question was settled. Only `.approved` lets the one parked call through.
public enum ApprovalAnswer: Sendable, Equatable {
    /// `by`: who or what answered (`client`, `command`, `terminal`); `how`: a sentence for the audit, e.g.
    /// `elicitation accepted with approve=true` or `persona-shim approve on /dev/pts/3 (pid 4242, uid 1000)`.
    case approved(by: String, how: String)
    case denied(by: String, how: String)
    /// Nobody answered within the timeout.
    case timedOut
    /// The channel failed (malformed answer, the command could not start, an error); the sentence says how.
    case failed(by: String, reason: String)

    public var isApproved: Bool {
        if case .approved = self { return true }
        return false
    }
}

/// How the persona wants approvals asked. Decoded from the persona's `approval` object.
public struct ApprovalSettings: Sendable, Equatable {
    public enum Channel: String, Sendable, Equatable {
        /// In the client when it can ask (it declared elicitation), otherwise out of band.
        case auto
        /// Only in the client; a client that cannot ask gets a refusal.
        case client
        /// Only out of band: the approval command and/or the terminal.
        case outOfBand = "out-of-band"
    }

    public var channel: Channel = .auto
    /// How long a parked call waits for an answer.
    public var timeoutSeconds: Int = 120
    /// The approval command (argv; no shell): it gets the question as JSON on stdin and approves by exiting 0
    /// within the timeout; any other exit, a signal or the timeout refuses.
    public var command: [String]? = nil
    /// Whether `persona-shim approve` / `deny` from a terminal may answer.
    public var terminal: Bool = true

    public init() {}
}
