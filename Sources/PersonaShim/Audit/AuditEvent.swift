/// Every kind of record the shim writes. One enum, so that a reader finds them all in one place and a typo
/// cannot make a new kind of record.
enum AuditEvent {
    case sessionStart, sessionEnd
    /// The agent was given less than the persona meant once the servers started: allow patterns that matched no
    /// tool, or no tool at all.
    case sessionTools
    /// A decision on an agent's request (write-ahead: on file before the request can reach a server).
    case callDecision
    /// How a forwarded request ended.
    case callOutcome
    /// A decision on a server's request to the agent (write-ahead too).
    case serverRequest
    case serverStart, serverReady, serverFailed, serverExit, serverRestart
    /// The session left the persona's behaviour baseline (repeats, failures, probing).
    case drift
    /// An operator's kill switch began, or stopped, refusing this session's calls.
    case killEngaged, killLifted
    /// The persona file (or one it extends) changed: the new version took effect, or was refused.
    case personaReload
    /// A call was parked and a person asked about it; then how the question was settled.
    case approvalAsked, approvalAnswered
    /// A process tried to answer a question out of band and was refused (no terminal, inside the agent's tree,
    /// another user, a wrong code).
    case approvalAttempt
    /// Masking changed what a server sent the agent: detector names and counts, never values.
    case responseMasked

    var name: StaticString {
        switch self {
        case .sessionStart: "session.start"
        case .sessionEnd: "session.end"
        case .sessionTools: "session.tools"
        case .callDecision: "call.decision"
        case .callOutcome: "call.outcome"
        case .serverRequest: "server.request"
        // The audit format predates the one word "server" in the code; readers of old files rely on these.
        case .serverStart: "child.start"
        case .serverReady: "child.ready"
        case .serverFailed: "child.failed"
        case .serverExit: "child.exit"
        case .serverRestart: "child.restart"
        case .drift: "drift"
        case .killEngaged: "kill.engaged"
        case .killLifted: "kill.lifted"
        case .personaReload: "persona.reload"
        case .approvalAsked: "approval.asked"
        case .approvalAnswered: "approval.answered"
        case .approvalAttempt: "approval.attempt"
        case .responseMasked: "response.masked"
        }
    }
}

extension AuditLog {
    /// Stages one record; it is written with the next write.
    @discardableResult
    func stage(_ event: AuditEvent, _ fields: (inout AuditFields) -> Void) -> Int {
        stage(event.name, fields)
    }

    /// Stages one record and writes it, with every record before it, before returning.
    func record(_ event: AuditEvent, _ fields: [(String, JSONValue)]) throws(AuditError) {
        stage(event.name) { record in
            for (key, value) in fields { record.add(named: key, value) }
        }
        try flush()
    }
}
