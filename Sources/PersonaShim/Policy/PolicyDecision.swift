/// What a policy check concluded about one request.
public struct PolicyDecision: Sendable, Equatable {
    public enum Verdict: String, Sendable { case allow, deny, ask }

    public var verdict: Verdict
    /// The rule that decided, e.g. `tools.deny["billing__*"]`.
    public var rule: String
    /// A sentence saying why, for the audit trail and for the agent when it is refused.
    public var reason: String

    public init(_ verdict: Verdict, rule: String, reason: String) {
        self.verdict = verdict
        self.rule = rule
        self.reason = reason
    }
}
