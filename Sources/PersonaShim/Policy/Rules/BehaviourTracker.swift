/// The persona's `behaviour` section: a declared baseline of what an agent doing its job does not do.
public struct BehaviourPolicy: Sendable {
    /// The same call (tool and canonical arguments) more than `max` times within `within`.
    public var repeats: (max: Int, within: RuleInterval)?
    /// More than `max` failed calls in a row (tool errors or protocol errors).
    public var failures: Int?
    /// More than `max` calls to tools that do not exist or are hidden from the agent.
    public var probes: Int?
    public var onBreach: BreachResponse

    public enum BreachResponse: Sendable, Equatable {
        /// Refuse every call for this long, then start counting afresh.
        case coolDown(RuleInterval)
        /// Refuse every call for the rest of the session.
        case endSession
    }

    public init(
        repeats: (max: Int, within: RuleInterval)? = nil, failures: Int? = nil, probes: Int? = nil,
        onBreach: BreachResponse = .endSession
    ) {
        self.repeats = repeats
        self.failures = failures
        self.probes = probes
        self.onBreach = onBreach
    }

    public var isEmpty: Bool { repeats == nil && failures == nil && probes == nil }
}

/// A breach of the behaviour baseline, for the audit's `drift` record and the agent's refusal.
public struct DriftEvent: Sendable, Equatable {
    /// `repeats`, `failures` or `probes`: the audit's `drift` value.
    public var kind: String
    /// A sentence for the agent and the audit.
    public var reason: String
    /// When calls are accepted again; nil for the rest of the session.
    public var until: MonotonicInstant?
}

/// A session's behaviour so far, judged against the persona's baseline. No I/O: the session feeds it facts.
///
/// Feed it every call the agent makes to a visible tool (`observeCall`, before judging other rules, so a
/// repeated call is refused even if it would be allowed), every call to a tool it cannot see (`observeProbe`),
/// and every answer (`observeOutcome`). `check` refuses while a breach is in force.
public struct BehaviourTracker: Sendable {
    public let policy: BehaviourPolicy
    /// Recent calls, oldest first, within the repeat window, from `oldest` on (a queue: the calls before it have
    /// left and are dropped in bulk), and how often each is among them. Counting rather than scanning keeps a
    /// call's cost the same however many calls the window remembers.
    private var recent: [(call: RememberedCall, time: Int64)] = []
    private var oldest = 0
    private var counts: [RememberedCall: Int] = [:]
    private var failuresInRow = 0
    private var probes = 0
    public private(set) var breach: DriftEvent?

    public init(policy: BehaviourPolicy) { self.policy = policy }

    /// The cap on remembered calls, so an agent cannot grow the session's memory by varying its arguments.
    static let maximumRemembered = 4096

    /// Refuses while a breach is in force; a cool-down that has ended clears the breach and the counts.
    public mutating func check(now: MonotonicInstant) -> RuleDecision {
        guard let breach else { return .allow }
        if let until = breach.until, now >= until {
            self.breach = nil
            (recent, oldest, counts, failuresInRow, probes) = ([], 0, [:], 0, 0)
            return .allow
        }
        return .deny(rule: "behaviour.\(breach.kind)", reason: breach.reason)
    }

    /// A call to a visible tool; returns the breach if this call is one repeat too many (the call is refused).
    public mutating func observeCall(tool: String, argumentsDigest: SHA256.Digest, now: MonotonicInstant)
        -> DriftEvent?
    {
        guard let (maximum, window) = policy.repeats else { return nil }
        let horizon = now.nanoseconds - window.nanoseconds
        while oldest < recent.count, recent[oldest].time <= horizon { forgetOldest() }
        let call = RememberedCall(tool: tool, digest: argumentsDigest)
        let same: Int
        if recent.count - oldest >= Self.maximumRemembered {
            // The count as it was before the oldest call (possibly this one) is forgotten.
            same = counts[call] ?? 0
            forgetOldest()
            counts[call, default: 0] += 1
        } else {
            // One hash lookup that counts the call and reads its count.
            same = Self.increment(&counts[call, default: 0])
        }
        if oldest >= Self.maximumRemembered {
            recent.removeFirst(oldest)
            oldest = 0
        }
        recent.append((call, now.nanoseconds))
        guard same + 1 > maximum else { return nil }
        return trip(
            "repeats", "the same call to \(tool) was made \(same + 1) times within \(window) (at most \(maximum))",
            now: now)
    }

    /// Adds one to `count`; returns the count before.
    private static func increment(_ count: inout Int) -> Int {
        count += 1
        return count - 1
    }

    private mutating func forgetOldest() {
        let call = recent[oldest].call
        oldest += 1
        if let count = counts[call], count > 1 { counts[call] = count - 1 } else { counts[call] = nil }
    }

    /// A call to a tool that does not exist or is hidden.
    public mutating func observeProbe(tool: String, now: MonotonicInstant) -> DriftEvent? {
        guard let maximum = policy.probes else { return nil }
        probes += 1
        guard probes > maximum else { return nil }
        return trip(
            "probes",
            "\(probes) calls were made to tools this persona does not offer, such as \(tool) (at most \(maximum))",
            now: now)
    }

    /// An answer: `failed` for a tool error (`isError: true`) or a protocol error.
    public mutating func observeOutcome(failed: Bool, now: MonotonicInstant) -> DriftEvent? {
        guard let maximum = policy.failures else { return nil }
        failuresInRow = failed ? failuresInRow + 1 : 0
        guard failuresInRow > maximum else { return nil }
        return trip("failures", "\(failuresInRow) calls in a row failed (at most \(maximum))", now: now)
    }

    private mutating func trip(_ kind: String, _ what: String, now: MonotonicInstant) -> DriftEvent {
        let until: MonotonicInstant?
        let consequence: String
        switch policy.onBreach {
        case .coolDown(let interval):
            until = now + interval
            consequence = "calls are refused for \(interval)"
        case .endSession:
            until = nil
            consequence = "calls are refused for the rest of this session"
        }
        let event = DriftEvent(
            kind: kind,
            reason: "The agent is drifting from its job: \(what); \(consequence). Rethink the approach.",
            until: until)
        // An earlier, longer breach stays in force.
        if breach == nil || breach?.until != nil { breach = event }
        return event
    }
}

/// A call as the repeat rule compares calls: its tool and the digest of its canonical arguments.
struct RememberedCall: Hashable, Sendable {
    let tool: String
    let digest: SHA256.Digest

    static func == (lhs: RememberedCall, rhs: RememberedCall) -> Bool {
        // Word by word: `Digest.==` compares bytes through a generic buffer, which showed up in profiles.
        let (a, b) = (lhs.digest.words, rhs.digest.words)
        return a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3 && a.4 == b.4 && a.5 == b.5 && a.6 == b.6
            && a.7 == b.7 && lhs.tool == rhs.tool
    }

    func hash(into hasher: inout Hasher) {
        // The digest is already uniformly spread: two of its words are as good a hash as all of them. The tool
        // is left to `==`: hashing its name cost more than the rest of the lookup, and calls to different tools
        // with the same arguments are rare.
        hasher.combine(UInt64(digest.words.0) << 32 | UInt64(digest.words.1))
    }
}
