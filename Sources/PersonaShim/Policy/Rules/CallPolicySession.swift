/// What the per-call rules need to know about one `tools/call`.
public struct CallFacts: Sendable {
    /// The decoded `arguments` (an empty object when the call has none); the bytes forwarded must be the bytes
    /// these were decoded from, and a repeated key anywhere must have refused the call before this point.
    public var arguments: JSONValue
    /// SHA-256 of the canonical arguments (`CanonicalJSON.digest`), which the audit computes anyway.
    public var argumentsDigest: SHA256.Digest
    /// Resolves path arguments the way the call's server would (its working directory, the user's home).
    public var paths: PathResolver
    /// Set when the tool's argument rules were already judged from the arguments' bytes and allow the call;
    /// then `arguments` is not read.
    public var argumentsAllowed: Bool

    public init(
        arguments: JSONValue, argumentsDigest: SHA256.Digest, paths: PathResolver, argumentsAllowed: Bool = false
    ) {
        self.arguments = arguments
        self.argumentsDigest = argumentsDigest
        self.paths = paths
        self.argumentsAllowed = argumentsAllowed
    }
}

/// The per-call rules that concern one tool, worked out once when the tool list is built, so a call matches
/// no patterns.
public struct ToolCallPolicy: Sendable {
    public let tool: String
    public let arguments: ToolArgumentRules
    public let limitIndexes: [Int]
    public let labels: [String]

    /// Whether a call to this tool needs its arguments decoded (only argument rules read them).
    public var readsArguments: Bool { !arguments.isEmpty }
}

/// A call's judgement: the decision, what to give back if it is not sent, and any behaviour breach to audit.
public struct CallJudgement: Sendable, Equatable {
    public var decision: RuleDecision
    /// Counted against the limits; pass the judgement to `notSent` if the call does not go out after all.
    public var reservation: LimitReservation?
    /// Set when this call tripped the behaviour baseline: the audit writes a `drift` record.
    public var drift: DriftEvent?
    /// When a limit refused the call: when a call could next succeed (nil: not in this session, or no limit).
    public var retryAt: MonotonicInstant?
}

/// One session's per-call policy: the persona's compiled rules plus the session's history (limits, behaviour,
/// taint). No I/O of its own except through the shared limit store; every instant is passed in.
///
/// The request path, for a call to a visible tool:
/// 1. `judge` the call (after the tool scope allowed it). Deny refuses it; ask needs approval; in monitor mode
///    the decision is audited (`enforced: false`) and the call goes on.
/// 2. When the call is written to the server, `sent`; when it is not (refused, approval denied), `notSent`.
/// 3. When its answer arrives, `answered` (failed = `isError: true` or a JSON-RPC error).
/// A call to an unknown or hidden tool goes to `probed` instead.
public struct CallPolicySession: Sendable {
    public let policy: CallPolicy
    private var limits: LimitTracker
    private var behaviour: BehaviourTracker
    private var flows: FlowTracker

    public init(policy: CallPolicy, sharedLimits: (any SharedLimitStore)? = nil) {
        self.policy = policy
        self.limits = LimitTracker(limits: policy.limits, shared: sharedLimits)
        self.behaviour = BehaviourTracker(policy: policy.behaviour)
        self.flows = FlowTracker(policy: policy.flows)
    }

    /// After a persona reload: limits defined as before keep their counts, and an unchanged behaviour baseline or
    /// set of flows keeps the session's history (repeats, failures, cool-down, taint).
    public mutating func carryOver(from old: CallPolicySession) {
        limits.carryOver(from: old.limits)
        if String(describing: policy.behaviour) == String(describing: old.policy.behaviour) {
            behaviour = old.behaviour
        }
        if String(describing: policy.flows) == String(describing: old.policy.flows) { flows = old.flows }
    }

    /// Whether the persona has no per-call rules at all: then nothing here needs calling.
    public var isEmpty: Bool { policy.isEmpty }

    /// The rules for one tool, computed when the tool list is built (`inputSchema` as the server lists it).
    public func toolPolicy(tool: String, server: String, inputSchema: JSONValue? = nil) -> ToolCallPolicy {
        ToolCallPolicy(
            tool: tool, arguments: policy.rules.rules(for: tool, inputSchema: inputSchema),
            limitIndexes: limits.limitIndexes(tool: tool, server: server),
            labels: policy.flows.labels(tool: tool, server: server))
    }

    /// Judges a call: behaviour first (a breach in force, or this call one repeat too many), then argument
    /// rules and flows, combined order-free; a call still allowed or asked is then counted against its limits,
    /// which can still refuse it. A denied call is not counted.
    public mutating func judge(
        _ facts: CallFacts, tool: ToolCallPolicy, now: MonotonicInstant, wallClock: @autoclosure () -> Instant
    ) -> CallJudgement {
        var decision = behaviour.check(now: now)
        let drift = behaviour.observeCall(tool: tool.tool, argumentsDigest: facts.argumentsDigest, now: now)
        if let drift {
            decision = decision.combined(with: .deny(rule: "behaviour.\(drift.kind)", reason: drift.reason))
        }
        if !tool.arguments.isEmpty, !facts.argumentsAllowed {
            decision = decision.combined(with: tool.arguments.evaluate(facts.arguments, paths: facts.paths))
        }
        if !tool.labels.isEmpty {
            decision = decision.combined(with: flows.evaluate(tool: tool.tool, labels: tool.labels))
        }
        var reservation: LimitReservation?
        var retryAt: MonotonicInstant?
        if !tool.limitIndexes.isEmpty, !decision.isDeny {
            switch limits.reserve(tool.limitIndexes, now: now, wallClock: wallClock()) {
            case .reserved(let taken): reservation = taken
            case .refused(let refusal, let retry):
                decision = decision.combined(with: refusal)
                retryAt = retry
            }
        }
        return CallJudgement(decision: decision, reservation: reservation, drift: drift, retryAt: retryAt)
    }

    /// The call was written to its server: its labels now taint the session.
    public mutating func sent(_ tool: ToolCallPolicy) {
        if !tool.labels.isEmpty { flows.record(tool: tool.tool, labels: tool.labels) }
    }

    /// The call was judged but not sent: its place under the limits is given back.
    public mutating func notSent(_ judgement: CallJudgement) {
        if let reservation = judgement.reservation { limits.release(reservation) }
    }

    /// The call's answer arrived; returns a breach to audit when this failure was one too many.
    public mutating func answered(failed: Bool, now: MonotonicInstant) -> DriftEvent? {
        behaviour.observeOutcome(failed: failed, now: now)
    }

    /// A call to a tool the agent cannot see; returns a breach to audit when this probe was one too many.
    /// (The call itself is refused by the tool scope as today.)
    public mutating func probed(tool: String, now: MonotonicInstant) -> DriftEvent? {
        behaviour.observeProbe(tool: tool, now: now)
    }

    /// For the audit: what tainted the session, as `label:tool`.
    public var taint: [String] { flows.taintSummary }
}
