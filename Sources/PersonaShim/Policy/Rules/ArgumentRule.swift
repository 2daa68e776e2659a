/// The constraints on one argument, addressed by name or JSON Pointer.
public struct ArgumentCondition: Sendable {
    public var pointer: JSONPointer
    public var constraints: [ArgumentConstraint]
    /// When true the condition speaks only about an argument that is present: a missing argument neither
    /// triggers a `when` rule nor breaks a `require` rule. When false (the default) a missing argument cannot be
    /// evaluated, and the rule denies.
    public var ifPresent: Bool

    public init(_ pointer: JSONPointer, _ constraints: [ArgumentConstraint], ifPresent: Bool = false) {
        self.pointer = pointer
        self.constraints = constraints
        self.ifPresent = ifPresent
    }

    enum Outcome {
        case holds, absent
        case fails(String)
        case cannotEvaluate(String)
    }

    func check(_ arguments: JSONValue, paths: PathResolver) -> Outcome {
        guard let value = pointer.resolve(in: arguments) else {
            return ifPresent ? .absent : .cannotEvaluate("argument \"\(pointer)\" is missing")
        }
        for constraint in constraints {
            switch constraint.check(value, at: pointer, paths: paths) {
            case .holds: continue
            case .fails(let why): return .fails(why)
            case .cannotEvaluate(let why): return .cannotEvaluate(why)
            }
        }
        return .holds
    }
}

/// A persona rule about the arguments of the tools its patterns match.
///
/// - `when` rules decide (`deny` or `ask`) a call whose arguments satisfy every condition: "refunds above 100
///   need approval".
/// - `require` rules are allow-style: a call whose arguments break any condition is denied: "paths must be
///   under the project".
///
/// - `strictArguments` rules refuse any argument the tool's `inputSchema` does not declare under `properties`.
///
/// Either way a condition that cannot be evaluated denies, naming the rule and why.
public struct ArgumentRule: Sendable {
    public enum Kind: Sendable {
        case when(RuleVerdict)
        case require
        case strictArguments
    }

    /// The rule's name in decisions and the audit: the persona's `id`, or `rules[N]`.
    public var id: String
    public var tools: [Glob]
    public var kind: Kind
    public var conditions: [ArgumentCondition]
    /// The persona's own sentence for a refusal, put before the details.
    public var reason: String?

    public init(id: String, tools: [Glob], kind: Kind, conditions: [ArgumentCondition], reason: String? = nil) {
        self.id = id
        self.tools = tools
        self.kind = kind
        self.conditions = conditions
        self.reason = reason
    }

    public func applies(to tool: String) -> Bool { tools.contains { $0.matches(tool) } }

    /// This rule's decision about a call to a tool it applies to; `declared` lists the argument names the tool's
    /// `inputSchema` declares (nil when the tool has no schema with `properties`, so nothing is declared).
    public func evaluate(_ arguments: JSONValue, paths: PathResolver, declared: [String]? = nil) -> RuleDecision {
        if case .strictArguments = kind {
            guard case .object(let object) = arguments else {
                return .deny(
                    rule: id, reason: sentence("rule \"\(id)\" cannot be evaluated: the arguments are not an object"))
            }
            let undeclared = object.keys.filter { !(declared ?? []).contains($0) }.sorted()
            guard undeclared.isEmpty else {
                let names = undeclared.map { "\"\($0)\"" }.joined(separator: ", ")
                return .deny(
                    rule: id,
                    reason: sentence("rule \"\(id)\" refuses arguments the tool does not declare: \(names)"))
            }
            return .allow
        }
        var allHold = true
        for condition in conditions {
            switch condition.check(arguments, paths: paths) {
            case .holds: continue
            case .absent: allHold = false
            case .cannotEvaluate(let why):
                return .deny(rule: id, reason: sentence("rule \"\(id)\" cannot be evaluated: \(why)"))
            case .fails(let why):
                if case .require = kind {
                    return .deny(rule: id, reason: sentence("rule \"\(id)\" refuses the call: \(why)"))
                }
                allHold = false
            }
        }
        guard case .when(let verdict) = kind, allHold else { return .allow }
        switch verdict {
        case .deny: return .deny(rule: id, reason: sentence("rule \"\(id)\" refuses this call"))
        case .ask: return .ask(rule: id, reason: sentence("rule \"\(id)\" needs approval for this call"))
        }
    }

    private func sentence(_ detail: String) -> String {
        let detail = detail.hasSuffix(".") ? detail : detail + "."
        guard let reason, !reason.isEmpty else { return detail.prefix(1).uppercased() + detail.dropFirst() }
        return (reason.hasSuffix(".") ? reason : reason + ".") + " (" + detail.dropLast() + ".)"
    }
}

/// Every argument rule of a persona. Empty for a persona without rules, which then costs nothing per call.
public struct ArgumentRuleSet: Sendable {
    public let rules: [ArgumentRule]

    public init(_ rules: [ArgumentRule] = []) { self.rules = rules }

    public var isEmpty: Bool { rules.isEmpty }

    /// The rules for one tool, chosen once (when the tool list is built) so a call matches no globs.
    /// `inputSchema` is the tool's schema as listed, which `strictArguments` rules read.
    public func rules(for tool: String, inputSchema: JSONValue? = nil) -> ToolArgumentRules {
        ToolArgumentRules(
            rules: rules.filter { $0.applies(to: tool) },
            declared: inputSchema?["properties"]?.objectValue?.keys)
    }

    /// Matches the tool's name against every rule, then judges; prefer `rules(for:)` once per tool.
    public func evaluate(tool: String, arguments: JSONValue, paths: PathResolver) -> RuleDecision {
        rules(for: tool).evaluate(arguments, paths: paths)
    }
}

/// The argument rules that apply to one tool.
public struct ToolArgumentRules: Sendable {
    public let rules: [ArgumentRule]
    /// The argument names the tool's `inputSchema` declares.
    public let declared: [String]?
    /// The rules in a form judged from the arguments' bytes; nil when some rule needs the decoded arguments.
    let raw: RawArgumentRules?

    public init(rules: [ArgumentRule], declared: [String]?) {
        self.rules = rules
        self.declared = declared
        self.raw = RawArgumentRules(rules)
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// True when the rules allow a call with the arguments at `range` of `bytes` (a valid JSON object with no
    /// key repeated), judged from those bytes; false when `evaluate` on the decoded arguments must decide.
    func allowsWithoutDecoding(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        raw?.allow(bytes, range) ?? false
    }

    /// Every rule's decision, combined without regard to order (deny, then ask, then allow). `arguments` is the
    /// call's decoded `arguments` (an absent one is passed as an empty object); `paths` belongs to the server
    /// the call goes to (its working directory).
    public func evaluate(_ arguments: JSONValue, paths: PathResolver) -> RuleDecision {
        var decision = RuleDecision.allow
        for rule in rules {
            decision = decision.combined(with: rule.evaluate(arguments, paths: paths, declared: declared))
        }
        return decision
    }
}
