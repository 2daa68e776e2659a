import Platform

/// What one per-call rule concluded. Combining is order-free: deny beats ask, ask beats allow, and between two
/// decisions of the same kind the one whose rule name sorts first is reported, so shuffling rules never changes
/// the outcome, not even the sentence.
public enum RuleDecision: Sendable, Equatable, CustomStringConvertible {
    case allow
    case deny(rule: String, reason: String)
    case ask(rule: String, reason: String)

    var severity: Int {
        switch self {
        case .allow: 0
        case .ask: 1
        case .deny: 2
        }
    }

    public var isDeny: Bool {
        if case .deny = self { return true }
        return false
    }

    public var rule: String? {
        switch self {
        case .allow: nil
        case .deny(let rule, _), .ask(let rule, _): rule
        }
    }

    public var reason: String? {
        switch self {
        case .allow: nil
        case .deny(_, let reason), .ask(_, let reason): reason
        }
    }

    /// The stricter of two decisions, chosen independently of which came first.
    public func combined(with other: RuleDecision) -> RuleDecision {
        if severity != other.severity { return severity > other.severity ? self : other }
        guard let rule, let otherRule = other.rule else { return self }
        if rule != otherRule { return rule < otherRule ? self : other }
        return (reason ?? "") <= (other.reason ?? "") ? self : other
    }

    /// The decision while approvals are not available: an ask refuses, and says so.
    public var withoutApprovals: RuleDecision {
        guard case .ask(let rule, let reason) = self else { return self }
        return .deny(rule: rule, reason: reason + " Approval is not available in this version, so the call is refused.")
    }

    /// The decision in the shape the policy chain uses, or nil for allow (rules never grant access on their own:
    /// the tool scope does).
    public var policyDecision: PolicyDecision? {
        switch self {
        case .allow: nil
        case .deny(let rule, let reason): PolicyDecision(.deny, rule: rule, reason: reason)
        case .ask(let rule, let reason): PolicyDecision(.ask, rule: rule, reason: reason)
        }
    }

    public var description: String {
        switch self {
        case .allow: "allow"
        case .deny(let rule, let reason): "deny \(rule): \(reason)"
        case .ask(let rule, let reason): "ask \(rule): \(reason)"
        }
    }
}

/// The decision a rule makes when its condition holds.
public enum RuleVerdict: String, Sendable, Equatable {
    case deny, ask
}

/// A point on a clock that only goes forward (CLOCK_MONOTONIC), in nanoseconds; rate limits and cool-downs use
/// it so that a wall-clock change can neither reset nor extend them. Tests pass their own instants.
public struct MonotonicInstant: Sendable, Comparable, Hashable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static var now: MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: MonotonicInstant, rhs: RuleInterval) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }
}

/// A length of time written in a persona as a whole number and a unit: `90s`, `5m`, `1h`, `1d`.
public struct RuleInterval: Sendable, Hashable, CustomStringConvertible {
    public let nanoseconds: Int64
    /// As written, for sentences.
    public let text: String

    /// The longest interval accepted: a year, which also keeps nanosecond arithmetic far from overflow.
    static let maximumSeconds: Int64 = 366 * 86_400

    public init?(_ text: String) {
        guard let unit = text.last, text.count >= 2 else { return nil }
        let number = text.dropLast()
        guard number.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }), number.utf8.count <= 9,
            let value = Int64(number), value > 0
        else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = value
        case "m": seconds = value * 60
        case "h": seconds = value * 3600
        case "d": seconds = value * 86_400
        default: return nil
        }
        guard seconds <= Self.maximumSeconds else { return nil }
        self.nanoseconds = seconds * 1_000_000_000
        self.text = text
    }

    public init(seconds: Int64) {
        self.nanoseconds = seconds * 1_000_000_000
        self.text = "\(seconds)s"
    }

    public var description: String { text }

    /// A duration for a person: `in 42 seconds`, `in 3 minutes`, rounded up so a retry at that moment works.
    static func sentence(forNanoseconds nanoseconds: Int64) -> String {
        let seconds = max(1, (nanoseconds + 999_999_999) / 1_000_000_000)
        if seconds < 120 { return "in \(seconds) second\(seconds == 1 ? "" : "s")" }
        let minutes = (seconds + 59) / 60
        if minutes < 120 { return "in \(minutes) minutes" }
        let hours = (minutes + 59) / 60
        if hours < 48 { return "in \(hours) hours" }
        return "in \((hours + 23) / 24) days"
    }
}
