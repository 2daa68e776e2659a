/// The persona's checks in the three phases a request passes through:
///
/// - **list**: what the agent may see at all (the catalog applies it once per tool, prompt and resource);
/// - **request**: whether one request may go to its server now (allow, deny, or ask a person);
/// - **response**: what of the server's answer may go back to the agent (pass, rewrite, or refuse).
///
/// A check lives in its own file and declares what it needs, so a persona that uses none of a phase's checks
/// pays nothing for that phase.
public struct PolicyEngine: Sendable {
    /// List phase, per kind of subject.
    public let toolVisibility: PolicyChain
    public let promptVisibility: PolicyChain
    public let resourceVisibility: PolicyChain
    /// Request phase. A tool call's scope was decided by the catalog; these are the checks beyond it.
    public let toolRequest: PolicyChain
    public let promptRequest: PolicyChain
    public let resourceRequest: PolicyChain
    /// Response phase.
    public let responseChecks: [any ResponseCheck]
    /// How tools are shown (list phase): annotation overrides, `readOnly`, cleaned text.
    public let toolPresentation: CallPolicy

    public init(persona: Persona) {
        let expiry: [any PolicyCheck] =
            persona.expires == nil ? [] : [ExpiryCheck(persona: persona.name, expires: persona.expires)]
        let classes: [any PolicyCheck] =
            persona.dataClasses.map { [DataClassCheck(persona: persona.name, policy: $0)] } ?? []
        toolVisibility = PolicyChain([ScopeCheck(persona.tools)])
        promptVisibility = PolicyChain([ScopeCheck(persona.prompts)])
        resourceVisibility = PolicyChain([ScopeCheck(persona.resources)])
        toolRequest = PolicyChain(expiry + classes)
        promptRequest = PolicyChain([ScopeCheck(persona.prompts)] + expiry + classes)
        resourceRequest = PolicyChain([ScopeCheck(persona.resources)] + expiry + classes)
        responseChecks = []
        toolPresentation = persona.callPolicy
    }

    public func visibility(_ kind: PolicySubject.Kind) -> PolicyChain {
        switch kind {
        case .tool: toolVisibility
        case .prompt: promptVisibility
        case .resource, .completion: resourceVisibility
        }
    }

    /// Whether the agent may see `subject` (list phase).
    public func isVisible(_ subject: PolicySubject) -> Bool {
        visibility(subject.kind).evaluate(PolicyRequest(subject, now: .distantPast)).verdict == .allow
    }

    /// The list-phase decision on `subject`.
    public func listDecision(_ subject: PolicySubject) -> PolicyDecision {
        visibility(subject.kind).evaluate(PolicyRequest(subject, now: .distantPast))
    }

    /// Whether any response check applies: without one, answers go back as the server's bytes.
    public var judgesResponses: Bool { !responseChecks.isEmpty }

    /// The response phase over a parsed result: the first refusal wins, rewrites apply in order.
    public func judgeResponse(_ subject: PolicySubject, result: JSONValue) -> ResponseVerdict {
        var current = result
        var rewritten = false
        for check in responseChecks {
            switch check.evaluate(subject, result: current) {
            case .pass: continue
            case .rewrite(let value):
                current = value
                rewritten = true
            case .refuse(let decision): return .refuse(decision)
            }
        }
        return rewritten ? .rewrite(current) : .pass
    }
}

/// What the response phase makes of a server's answer.
public enum ResponseVerdict: Sendable {
    case pass
    case rewrite(JSONValue)
    case refuse(PolicyDecision)
}

/// One check of the response phase.
public protocol ResponseCheck: Sendable {
    func evaluate(_ subject: PolicySubject, result: JSONValue) -> ResponseVerdict
}
