/// A session's `CallPolicySession`, held by reference so the request path reads and mutates it in place.
final class CallRulesBox {
    /// Used from the session's thread only, one call at a time: no dynamic exclusivity check per access.
    @exclusivity(unchecked) var session: CallPolicySession

    init(_ session: CallPolicySession) { self.session = session }
}

/// The persona's per-call rules in the request path: arguments, limits, behaviour and flows, judged against the
/// session's history (`CallPolicySession`), with drift and taint in the audit trail. A persona without such rules
/// has no `calls`, and none of this runs.
extension SessionCore {
    /// Judges one call to a visible tool. Its arguments are decoded only when a rule reads them: from the very
    /// bytes forwarded, whose repeated keys already refused the call (`CanonicalJSON.digest`).
    func judgeCall(
        _ request: AgentRequest, _ toolPolicy: ToolCallPolicy, server: Int, argsDigest: SHA256.Digest?
    ) -> CallJudgement {
        guard let calls else { return CallJudgement(decision: .allow) }
        guard let argsDigest else {
            // Tool calls always have one; without it no rule can be evaluated, so the call is refused.
            return CallJudgement(
                decision: .deny(rule: "arguments", reason: "The call's arguments could not be read."))
        }
        // Most calls are allowed from the arguments' bytes; only the rest are decoded.
        var arguments = JSONValue.null
        var argumentsAllowed = false
        if toolPolicy.readsArguments {
            if let range = request.params.arguments,
                toolPolicy.arguments.allowsWithoutDecoding(request.raw, range)
            {
                argumentsAllowed = true
            } else {
                arguments = request.value(request.params.arguments) ?? .object(JSONObject())
            }
        }
        let facts = CallFacts(
            arguments: arguments, argumentsDigest: argsDigest, paths: paths[server],
            argumentsAllowed: argumentsAllowed)
        // Through the box, in place: a copy of the session would retain (and then release) each of its arrays.
        let judgement = calls.session.judge(
            facts, tool: toolPolicy, now: MonotonicInstant(nanoseconds: Int64(now)), wallClock: wallClock())
        if let drift = judgement.drift { recordDrift(drift, tool: toolPolicy.tool) }
        return judgement
    }

    /// Refuses a call the per-call rules refused: a tool result with `isError` naming the rule, and the decision
    /// on file with the rule, its reason and, where the session was tainted, what tainted it.
    func refuseCall(
        _ request: AgentRequest, _ target: ForwardTarget, server: Server, _ refusal: PolicyDecision,
        argsDigest: SHA256.Digest?
    ) {
        let taint = calls?.session.taint ?? []
        audit.stage(.callDecision) { record in
            record.add("server", server.name)
            record.add(target.subject.auditField, target.exposedName)
            record.add("decision", "deny")
            record.add("rule", refusal.rule)
            record.add("reason", refusal.reason)
            if let argsDigest { record.add("argsDigest", digest: argsDigest) }
            if !taint.isEmpty { record.add(named: "taint", .array(taint.map(JSONValue.string))) }
        }
        let sentence =
            "persona-shim refused this call under the persona \"\(persona.name)\": \(refusal.reason) (rule \(refusal.rule))."
        refuse(request.id, target.subject, sentence, code: JSONRPCError.requestFailed)
    }

    /// A call to a tool the agent cannot see counts towards the probing baseline.
    func callProbed(_ name: String) {
        guard let calls, let drift = calls.session.probed(tool: name, now: MonotonicInstant(nanoseconds: Int64(now)))
        else { return }
        recordDrift(drift, tool: name)
    }

    /// A tool call's answer came back; failures in a row count towards the baseline.
    func callAnswered(failed: Bool) {
        guard let calls,
            let drift = calls.session.answered(failed: failed, now: MonotonicInstant(nanoseconds: Int64(now)))
        else { return }
        recordDrift(drift, tool: nil)
    }

    private func recordDrift(_ drift: DriftEvent, tool: String?) {
        logger.warning("the agent drifted from the persona \"\(persona.name)\": \(drift.reason)")
        audit.stage(.drift) { record in
            record.add("drift", drift.kind)
            if let tool { record.add("tool", tool) }
            record.add("reason", drift.reason)
            if let until = drift.until, until.nanoseconds > Int64(now) {
                record.add("coolDownMs", millisecondsFromNanoseconds: UInt64(until.nanoseconds - Int64(now)))
            }
        }
    }
}
