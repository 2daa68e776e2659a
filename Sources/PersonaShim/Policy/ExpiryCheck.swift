/// Refuses every request once the persona has expired, even in a session that started before.
public struct ExpiryCheck: PolicyCheck {
    public let persona: String
    public let expires: CalendarDate?

    public func evaluate(_ request: PolicyRequest) -> PolicyDecision? {
        guard let expires, request.now >= expires.endOfDay else { return nil }
        return PolicyDecision(
            .deny, rule: "expires",
            reason: "the persona \"\(persona)\" expired on \(expires); its owner must review it before it is used again"
        )
    }
}
