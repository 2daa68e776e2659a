/// What a policy check concluded about one call.
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

/// The request a policy judges: a tool call, a resource read or a prompt.
public struct ToolCallContext: Sendable {
    /// What the agent asked for, as it sees it: `crm__get_ticket`, `crm__greet`, or a resource URI.
    public var exposedName: String
    public var server: String
    /// The server's own name for it (tool or prompt name, or URI).
    public var tool: String
    public var arguments: JSONValue?
    public var now: Instant
    /// Other names the same thing goes by (the plain `server__tool` when a collision forced a hashed name),
    /// so that a deny pattern written for the plain name still applies.
    public var aliases: [String]

    public init(
        exposedName: String, server: String, tool: String, arguments: JSONValue?, now: Instant, aliases: [String] = []
    ) {
        self.exposedName = exposedName
        self.server = server
        self.tool = tool
        self.arguments = arguments
        self.now = now
        self.aliases = aliases
    }
}

/// One small check in the policy chain: returns a decision, or nil when it has no opinion.
public protocol PolicyCheck: Sendable {
    func evaluate(_ call: ToolCallContext) -> PolicyDecision?
    /// Whether the check reads `arguments`: only then are a call's arguments parsed into a `JSONValue`.
    var readsArguments: Bool { get }
}

extension PolicyCheck {
    public var readsArguments: Bool { false }
}

/// Combines checks so that order never changes the outcome: any deny wins, then any ask, then an allow;
/// with no allow at all the call is denied (default deny).
public struct PolicyChain: Sendable {
    public let checks: [any PolicyCheck]
    /// Whether any check reads the call's arguments.
    public let readsArguments: Bool

    public init(_ checks: [any PolicyCheck]) {
        self.checks = checks
        self.readsArguments = checks.contains { $0.readsArguments }
    }

    public func evaluate(_ call: ToolCallContext) -> PolicyDecision {
        evaluate(call, known: nil)
    }

    /// Evaluates the chain together with a decision already made for this request (such as the scope decision
    /// the catalog made once per tool), under the same rule: any deny, then any ask, then the first allow.
    /// Evaluates the chain for a call whose context is made only if some check needs it (most calls of a persona
    /// without call-time checks need nothing beyond the decision already `known`).
    public func evaluate(known: PolicyDecision?, _ call: () -> ToolCallContext) -> PolicyDecision {
        if checks.isEmpty, let known { return known }
        return evaluate(call(), known: known)
    }

    public func evaluate(_ call: ToolCallContext, known: PolicyDecision?) -> PolicyDecision {
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
            if let decision = check.evaluate(call), let deny = note(decision) { return deny }
        }
        return ask ?? allow
            ?? PolicyDecision(
                .deny, rule: "default-deny", reason: "\(call.exposedName) is not allowed by any rule of the persona")
    }
}

/// A persona section's allow / deny patterns over what the agent sees. A matching deny beats any allow.
public struct ScopeCheck: PolicyCheck {
    public let scope: PatternScope

    public init(_ scope: PatternScope) {
        self.scope = scope
    }

    public func evaluate(_ call: ToolCallContext) -> PolicyDecision? {
        let name = call.exposedName
        let names = [name] + call.aliases
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

/// Refuses every call once the persona has expired, even in a session that started before.
public struct ExpiryCheck: PolicyCheck {
    public let persona: String
    public let expires: CalendarDate?

    public func evaluate(_ call: ToolCallContext) -> PolicyDecision? {
        guard let expires, call.now >= expires.endOfDay else { return nil }
        return PolicyDecision(
            .deny, rule: "expires",
            reason: "the persona \"\(persona)\" expired on \(expires); its owner must review it before it is used again"
        )
    }
}

extension Persona {
    /// The checks that decide whether something is in the persona's scope at all (and so visible).
    public func visibilityChain(_ scope: PatternScope) -> PolicyChain { PolicyChain([ScopeCheck(scope)]) }

    /// Every check a request must pass.
    public func requestChain(_ scope: PatternScope) -> PolicyChain {
        PolicyChain([ScopeCheck(scope)] + expiryChecks)
    }

    /// A persona without an expiry date needs no check for it.
    private var expiryChecks: [any PolicyCheck] {
        expires == nil ? [] : [ExpiryCheck(persona: name, expires: expires)]
    }

    public var scopeChain: PolicyChain { visibilityChain(tools) }

    /// The checks a tool call must pass beyond its scope, which the catalog decides once per tool.
    public var callTimeChain: PolicyChain { PolicyChain(expiryChecks) }
}
