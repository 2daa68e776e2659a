/// A bound on how many notifications one server may push at the agent: a token bucket of `burst`, refilled at
/// `perSecond`, on the session's clock. What is over the bound is dropped, so one chatty server cannot starve the
/// others or bury the agent.
struct NotificationBudget {
    static let perSecond: UInt64 = 500
    static let burst: UInt64 = 1000

    private var tokens = Self.burst
    private var refilledAt: UInt64?
    /// Notifications dropped since the last one admitted.
    private(set) var dropped = 0

    /// Whether a notification arriving `now` goes through.
    mutating func admit(now: UInt64) -> Bool {
        if let refilledAt {
            let earned = (now &- refilledAt) * Self.perSecond / 1_000_000_000
            if earned > 0 {
                tokens = min(Self.burst, tokens + earned)
                self.refilledAt = now
            }
        } else {
            refilledAt = now
        }
        guard tokens > 0 else {
            dropped += 1
            return false
        }
        tokens -= 1
        return true
    }

    /// How many were dropped before this admitted one; the count starts again.
    mutating func takeDropped() -> Int {
        defer { dropped = 0 }
        return dropped
    }
}
