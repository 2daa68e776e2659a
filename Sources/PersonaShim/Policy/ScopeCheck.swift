/// A persona section's allow / deny patterns over what the agent sees. A matching deny beats any allow.
public struct ScopeCheck: PolicyCheck {
    public let scope: PatternScope

    public init(_ scope: PatternScope) {
        self.scope = scope
    }

    public func evaluate(_ request: PolicyRequest) -> PolicyDecision? {
        let name = request.subject.exposedName
        let names = [name] + request.subject.aliases
        if let pattern = scope.deny.first(where: { pattern in names.contains { pattern.matches($0) } }) {
            return PolicyDecision(
                .deny, rule: "\(scope.section).deny[\"\(pattern)\"]",
                reason: "\(name) matches the persona's deny pattern \"\(pattern)\"")
        }
        if let pattern = scope.allow.first(where: { $0.matches(name) }) {
            return PolicyDecision(
                .allow, rule: "\(scope.section).allow[\"\(pattern)\"]",
                reason: "\(name) matches the allow pattern \"\(pattern)\"")
        }
        return nil
    }
}
