/// A bound on how many notifications one server may push at the agent: a token bucket of `burst`, refilled at
/// `perSecond`, on the session's clock. What is over the bound is dropped, so one chatty server cannot starve the
/// others or bury the agent.
struct NotificationBudget {
    static let perSecond: UInt64 = 500
    static let burst: UInt64 = 1000
    /// How often a sustained flood is summed up in the log: the log must not become the flood it reports.
    static let reportInterval: UInt64 = 1_000_000_000

    /// What the log should say about dropping, at most once per `reportInterval` after it starts.
    enum Report: Equatable {
        case started
        case dropped(Int)
    }

    private var tokens = Self.burst
    private var refilledAt: UInt64?
    /// Notifications dropped since the last report.
    private var dropped = 0
    /// When the current run of drops was last reported; nil while nothing is being dropped.
    private var reportedAt: UInt64?

    /// Whether a notification arriving `now` goes through.
    mutating func admit(now: UInt64) -> Bool {
        if let refilledAt {
            // Capped so that a server quiet for a very long time cannot overflow the product.
            let earned = min(now &- refilledAt, 10_000_000_000) * Self.perSecond / 1_000_000_000
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

    /// What to log now, if anything: that dropping started, then how many were dropped, at most once per
    /// `reportInterval`; an interval without drops ends the run. Reporting each run that ends when a token is earned
    /// would log twice per admitted notification while a server stays over the bound.
    mutating func takeReport(now: UInt64) -> Report? {
        guard let reportedAt else {
            guard dropped > 0 else { return nil }
            self.reportedAt = now
            return .started
        }
        guard now &- reportedAt >= Self.reportInterval else { return nil }
        let count = dropped
        dropped = 0
        self.reportedAt = count > 0 ? now : nil
        return count > 0 ? .dropped(count) : nil
    }
}
