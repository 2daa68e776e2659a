/// The kill switch as the core sees it: the shell reads the switch's state (see `KillSwitch`) and says when it
/// changes; while it is on, every tool call, prompt and resource read is refused before any other check.
extension SessionCore {
    /// The switch changed (or was read for the first time): audited once per change, in this session.
    func killSwitchChanged(_ state: KillSwitchState?) {
        guard state != killSwitch else { return }
        let previous = killSwitch
        killSwitch = state
        if let state {
            logger.warning("the kill switch stopped the persona \"\(persona.name)\": \(state.reason)")
            audit.stage(.killEngaged) { record in
                record.add("scope", state.scope)
                record.add("file", state.file)
                record.add("reason", state.reason)
            }
        } else if let previous {
            logger.warning("the kill switch for the persona \"\(persona.name)\" was lifted")
            audit.stage(.killLifted) { record in
                record.add("scope", previous.scope)
                record.add("file", previous.file)
            }
        }
        commitAudit()
    }

    /// Refuses a request while the switch is on. Lists, completions and unsubscribing stay: they call no tool.
    /// Returns whether it refused.
    func refusedByKillSwitch(_ request: AgentRequest, _ target: ForwardTarget, argsDigest: SHA256.Digest?) -> Bool {
        guard let killSwitch, target.subject != .completion, request.method != "resources/unsubscribe" else {
            return false
        }
        recordDecision(
            target.subject, target.exposedName, server: servers[target.server].name, decision: "deny",
            rule: "kill-switch", reason: killSwitch.reason, argsDigest: argsDigest)
        let sentence =
            "persona-shim refused this request: an operator stopped the persona \"\(persona.name)\" with the kill switch (\(killSwitch.reason)). Nothing was sent to the server. It stays stopped until \(killSwitch.lift)."
        refuse(request.id, target.subject, sentence, code: JSONRPCError.requestFailed)
        return true
    }
}

/// The kill switch is on for this persona: why, and how it is lifted.
struct KillSwitchState: Equatable, Sendable {
    /// `persona` (this persona's own switch), `all` (every persona's), or `unreadable` (the state could not be
    /// read, which counts as on).
    let scope: String
    /// The switch's file: the user's or the machine's.
    let file: String
    let reason: String
    /// When the switch lifts, completing "It stays stopped until …".
    let lift: String
}
