/// What a check needs beyond the request's subject: only a persona with a check that needs a fact pays for it.
public struct PolicyNeeds: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The request's arguments, parsed into a `JSONValue`.
    public static let arguments = PolicyNeeds(rawValue: 1)
    /// The session's earlier requests and their outcomes.
    public static let history = PolicyNeeds(rawValue: 2)
    /// The server's result (response phase).
    public static let result = PolicyNeeds(rawValue: 4)
}

/// One small check of the request phase: returns a decision, or nil when it has no opinion.
public protocol PolicyCheck: Sendable {
    func evaluate(_ request: PolicyRequest) -> PolicyDecision?
    /// What the check reads beyond the subject.
    var needs: PolicyNeeds { get }
}

extension PolicyCheck {
    public var needs: PolicyNeeds { [] }
}

/// Combines checks so that order never changes the outcome: any deny wins, then any ask, then an allow;
/// with no allow at all the request is denied (default deny).
public struct PolicyChain: Sendable {
    public let checks: [any PolicyCheck]
    /// The union of what the checks need.
    public let needs: PolicyNeeds

    public init(_ checks: [any PolicyCheck]) {
        self.checks = checks
        self.needs = checks.reduce(into: []) { $0.formUnion($1.needs) }
    }

    /// Whether any check reads the request's arguments: only then are they parsed.
    public var readsArguments: Bool { needs.contains(.arguments) }

    public func evaluate(_ request: PolicyRequest) -> PolicyDecision {
        evaluate(request, known: nil)
    }

    /// Evaluates the chain together with a decision already made (such as the scope decision the catalog made
    /// once per tool); the request is made only if some check needs it, so a persona without request-time checks
    /// pays nothing per call beyond the decision already `known`.
    public func evaluate(known: PolicyDecision?, _ request: () -> PolicyRequest) -> PolicyDecision {
        if checks.isEmpty, let known { return known }
        return evaluate(request(), known: known)
    }

    public func evaluate(_ request: PolicyRequest, known: PolicyDecision?) -> PolicyDecision {
        var ask: PolicyDecision?
        var allow: PolicyDecision?
        func note(_ decision: PolicyDecision) -> PolicyDecision? {
            switch decision.verdict {
            case .deny: return decision
            case .ask: ask = ask ?? decision
            case .allow: allow = allow ?? decision
            }
            return nil
        }
        if let known, let deny = note(known) { return deny }
        for check in checks {
            if let decision = check.evaluate(request), let deny = note(decision) { return deny }
        }
        return ask ?? allow
            ?? PolicyDecision(
                .deny, rule: "default-deny",
                reason: "\(request.exposedName) is not allowed by any rule of the persona")
    }
}
