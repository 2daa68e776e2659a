/// Request phase: refuses a request whose subject handles a class of data the persona does not declare, or that
/// carries no label when the persona refuses unlabelled things. Consulted before the request runs, as a
/// precondition of the call, never after the fact.
public struct DataClassCheck: PolicyCheck {
    public let persona: String
    public let policy: DataClassPolicy

    public func evaluate(_ request: PolicyRequest) -> PolicyDecision? {
        let subject = request.subject
        let classes = policy.classes(of: subject)
        let what = Self.noun(subject.kind)
        guard !classes.isEmpty else {
            guard policy.unlabelled == .refuse else { return nil }
            return PolicyDecision(
                .deny, rule: "dataClasses.unlabelled",
                reason:
                    "\(what) \(subject.exposedName) has no data class label, and the persona \"\(persona)\" refuses unlabelled \(what)s; label it in \"dataClasses\" or the classification file"
            )
        }
        let undeclared = classes.filter { !policy.allow.contains($0) }
        guard !undeclared.isEmpty else { return nil }
        let quoted = undeclared.map { "\"\($0)\"" }.joined(separator: ", ")
        let plural = undeclared.count == 1 ? "class" : "classes"
        return PolicyDecision(
            .deny, rule: "dataClasses",
            reason:
                "\(what) \(subject.exposedName) handles data of \(plural) \(quoted), which the persona \"\(persona)\" does not declare in \"dataClasses.allow\""
        )
    }

    static func noun(_ kind: PolicySubject.Kind) -> String {
        switch kind {
        case .tool: "tool"
        case .prompt: "prompt"
        case .resource: "resource"
        case .completion: "completion reference"
        }
    }
}
