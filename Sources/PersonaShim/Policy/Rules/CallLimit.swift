/// A rate limit or budget from the persona's `limits` section.
///
/// Rate limits are sliding windows: at most `calls` calls in any stretch of `per` (the log of the last `calls`
/// call times is kept, so "20 a day" never lets 21 through in a day, unlike a token bucket that refills
/// continuously and allows a second burst). A limit without `per` is a budget for the session. A limit with
/// `acrossSessions` counts every session of the persona on this machine, in a state file (wall-clock times,
/// since monotonic clocks restart with the machine).
public struct CallLimit: Sendable {
    public enum Scope: Sendable, Equatable {
        /// Calls to tools (exposed names) matching any of the patterns, counted together.
        case tools([Glob])
        /// Calls to any tool of the named servers, counted together.
        case servers([String])
        /// Every call of the session.
        case persona
    }

    /// The limit's name in refusals and the audit: the persona's `id`, or `limits[N]`.
    public var id: String
    public var scope: Scope
    public var calls: Int
    /// The window of a rate limit; nil for a session budget.
    public var per: RuleInterval?
    public var acrossSessions: Bool

    /// The largest `calls` accepted, which bounds a window's memory (8 bytes a call).
    public static let maximumCalls = 100_000

    public init(id: String, scope: Scope, calls: Int, per: RuleInterval? = nil, acrossSessions: Bool = false) {
        self.id = id
        self.scope = scope
        self.calls = calls
        self.per = per
        self.acrossSessions = acrossSessions
    }

    public func applies(tool: String, server: String) -> Bool {
        switch scope {
        case .tools(let patterns): patterns.contains { $0.matches(tool) }
        case .servers(let names): names.contains(server)
        case .persona: true
        }
    }

    /// "60 calls per 1m to tools matching search__*", for refusals.
    var summary: String {
        var text = "\(calls) call\(calls == 1 ? "" : "s") " + (per.map { "per \($0)" } ?? "per session")
        switch scope {
        case .tools(let patterns): text += " to tools matching " + patterns.map(\.pattern).joined(separator: ", ")
        case .servers(let names): text += " to server" + (names.count == 1 ? " " : "s ") + names.joined(separator: ", ")
        case .persona: break
        }
        if acrossSessions { text += ", across all sessions" }
        return text
    }
}

/// The times of the most recent calls under one rate limit, oldest first, at most `capacity` of them.
struct SlidingWindow: Sendable {
    private var times: [Int64]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { times = [Int64](repeating: 0, count: capacity) }

    private var capacity: Int { times.count }

    private func time(at logical: Int) -> Int64 { times[(head + logical) % capacity] }

    /// When the next call may be made: now if the window has room, else when its oldest call leaves it.
    func nextAllowed(now: Int64, interval: Int64) -> Int64 {
        guard count == capacity, capacity > 0 else { return capacity == 0 ? .max : now }
        let free = time(at: 0) &+ interval
        return free <= now ? now : free
    }

    /// Records a call; the caller checked `nextAllowed` first, so a full window's oldest call has expired.
    mutating func record(_ time: Int64) {
        if count == capacity {
            times[head] = time
            head = (head + 1) % capacity
        } else {
            times[(head + count) % capacity] = time
            count += 1
        }
    }

    /// Forgets one call recorded at `time` (a reservation given back); an expired call it may have replaced
    /// stays forgotten, which is harmless since it no longer counted.
    mutating func remove(_ time: Int64) {
        guard let found = (0..<count).reversed().first(where: { self.time(at: $0) == time }) else { return }
        for logical in found..<(count - 1) {
            times[(head + logical) % capacity] = self.time(at: logical + 1)
        }
        count -= 1
    }
}
