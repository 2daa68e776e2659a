import Foundation

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

/// The call a policy judges.
public struct ToolCallContext: Sendable {
    public var exposedName: String
    public var server: String
    public var tool: String
    public var arguments: JSONValue?
    public var now: Date

    public init(exposedName: String, server: String, tool: String, arguments: JSONValue?, now: Date) {
        self.exposedName = exposedName
        self.server = server
        self.tool = tool
        self.arguments = arguments
        self.now = now
    }
}

/// One small check in the policy chain: returns a decision, or nil when it has no opinion.
public protocol PolicyCheck: Sendable {
    func evaluate(_ call: ToolCallContext) -> PolicyDecision?
}

/// Combines checks so that order never changes the outcome: any deny wins, then any ask, then an allow;
/// with no allow at all the call is denied (default deny).
public struct PolicyChain: Sendable {
    public var checks: [any PolicyCheck]

    public init(_ checks: [any PolicyCheck]) {
        self.checks = checks
    }

    public func evaluate(_ call: ToolCallContext) -> PolicyDecision {
        let decisions = checks.compactMap { $0.evaluate(call) }
        if let deny = decisions.first(where: { $0.verdict == .deny }) { return deny }
        if let ask = decisions.first(where: { $0.verdict == .ask }) { return ask }
        if let allow = decisions.first(where: { $0.verdict == .allow }) { return allow }
        return PolicyDecision(
            .deny, rule: "default-deny", reason: "\(call.exposedName) is not allowed by any rule of the persona")
    }
}

/// The persona's `tools.allow` / `tools.deny` patterns over exposed names. A matching deny beats any allow.
public struct ToolScopeCheck: PolicyCheck {
    public let scope: ToolScope

    public init(_ scope: ToolScope) {
        self.scope = scope
    }

    public func evaluate(_ call: ToolCallContext) -> PolicyDecision? {
        let name = call.exposedName
        if let pattern = scope.deny.first(where: { $0.matches(name) }) {
            return PolicyDecision(
                .deny, rule: "tools.deny[\"\(pattern)\"]",
                reason: "\(name) matches the persona's deny pattern \"\(pattern)\"")
        }
        if let pattern = scope.allow.first(where: { $0.matches(name) }) {
            return PolicyDecision(
                .allow, rule: "tools.allow[\"\(pattern)\"]", reason: "\(name) matches the allow pattern \"\(pattern)\"")
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
    /// The checks that decide whether a tool is in the persona's scope at all (and so visible).
    public var scopeChain: PolicyChain { PolicyChain([ToolScopeCheck(tools)]) }

    /// Every check a call must pass.
    public var callChain: PolicyChain {
        PolicyChain([ToolScopeCheck(tools), ExpiryCheck(persona: name, expires: expires)])
    }
}
