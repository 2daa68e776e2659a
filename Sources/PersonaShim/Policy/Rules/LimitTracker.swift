/// A counted call: what `LimitTracker.release` needs to give it back.
public struct LimitReservation: Sendable, Equatable {
    /// The limits the call counted against, by index.
    let limits: [Int]
    let monotonic: Int64
    let wallClock: Int64
}

/// What counting a call against the persona's limits concluded.
public enum LimitOutcome: Sendable, Equatable {
    /// The call counts against its limits from now on; give it back with `release` if it is not sent after all.
    case reserved(LimitReservation)
    /// A deny naming the limit, and when a call could next succeed (nil: not in this session).
    case refused(RuleDecision, retryAt: MonotonicInstant?)
}

/// Counts a session's calls against the persona's rate limits and budgets.
///
/// Counting happens when a call is judged, not when its answer arrives, so calls pipelined before any answer
/// cannot overshoot: with a limit of 10, the eleventh call judged is refused even if none has been answered.
/// Call `reserve` last, once every other rule has allowed the call, and `release` if the call is then not sent
/// (a refused approval, a closed server). A call that is refused counts against nothing.
public struct LimitTracker: Sendable {
    public let limits: [CallLimit]
    private var windows: [SlidingWindow]
    private var used: [Int]
    private let shared: (any SharedLimitStore)?
    /// Each limit's window in nanoseconds (nil for a budget) and whether it counts across sessions, read per call
    /// without copying the limit.
    private let windowNanoseconds: [Int64?]
    private let countsAcrossSessions: [Bool]

    /// `shared` keeps the counts of `acrossSessions` limits; without one such limits refuse every call.
    public init(limits: [CallLimit], shared: (any SharedLimitStore)? = nil) {
        self.limits = limits
        self.windowNanoseconds = limits.map { $0.per?.nanoseconds }
        self.countsAcrossSessions = limits.map(\.acrossSessions)
        self.windows = limits.map { SlidingWindow(capacity: $0.per == nil || $0.acrossSessions ? 0 : $0.calls) }
        self.used = [Int](repeating: 0, count: limits.count)
        self.shared = shared
    }

    public var isEmpty: Bool { limits.isEmpty }

    /// After a persona reload: each limit defined exactly as before keeps the calls it has counted.
    public mutating func carryOver(from old: LimitTracker) {
        for index in limits.indices {
            let definition = String(describing: limits[index])
            guard let previous = old.limits.firstIndex(where: { String(describing: $0) == definition }) else {
                continue
            }
            windows[index] = old.windows[previous]
            used[index] = old.used[previous]
        }
    }

    /// The limits a tool's calls count against, chosen once per tool when the tool list is built.
    public func limitIndexes(tool: String, server: String) -> [Int] {
        limits.indices.filter { limits[$0].applies(tool: tool, server: server) }
    }

    /// Matches the call against every limit, then reserves; prefer the overload with `limitIndexes` per tool.
    public mutating func reserve(
        tool: String, server: String, now: MonotonicInstant, wallClock: @autoclosure () -> Instant
    ) -> LimitOutcome {
        reserve(limitIndexes(tool: tool, server: server), now: now, wallClock: wallClock())
    }

    /// Counts a call against the given limits: all of them or, if any is reached, none. The wall clock is read
    /// only for limits across sessions (the only ones that use it).
    public mutating func reserve(_ indexes: [Int], now: MonotonicInstant, wallClock: @autoclosure () -> Instant)
        -> LimitOutcome
    {
        if indexes.isEmpty { return .reserved(LimitReservation(limits: [], monotonic: 0, wallClock: 0)) }
        // The common case first: limits of this session only, every one with room. Counted as below.
        // (A loop, not `allSatisfy`: its closure would copy the whole tracker.)
        var room = true
        for index in indexes where !hasRoom(index, now: now.nanoseconds) {
            room = false
            break
        }
        if room {
            for index in indexes {
                if windowNanoseconds[index] != nil { windows[index].record(now.nanoseconds) } else { used[index] += 1 }
            }
            return .reserved(LimitReservation(limits: indexes, monotonic: now.nanoseconds, wallClock: 0))
        }
        let wallNanoseconds =
            indexes.contains { limits[$0].acrossSessions } ? Int64(wallClock().secondsSince1970 * 1e9) : 0
        var refusal: (decision: RuleDecision, retry: Int64)?
        func refuse(_ index: Int, _ retry: Int64, _ detail: String) {
            let limit = limits[index]
            let decision = RuleDecision.deny(
                rule: "limits.\(limit.id)", reason: "Limit \"\(limit.id)\" (\(limit.summary)) \(detail).")
            // The limit that frees up last decides, so the stated time is when a call really could succeed.
            if let current = refusal, (current.retry, current.decision.rule ?? "") >= (retry, decision.rule ?? "") {
                return
            }
            refusal = (decision, retry)
        }
        for index in indexes {
            let limit = limits[index]
            if limit.acrossSessions {
                continue
            } else if let per = limit.per {
                let next = windows[index].nextAllowed(now: now.nanoseconds, interval: per.nanoseconds)
                if next > now.nanoseconds {
                    let wait = RuleInterval.sentence(forNanoseconds: next - now.nanoseconds)
                    refuse(index, next, "is reached; the next call will be allowed \(wait)")
                }
            } else if used[index] >= limit.calls {
                refuse(index, .max, "is used up; no further calls are allowed in this session")
            }
        }
        if refusal == nil {
            // Shared limits last: they lock a file, and a refusal above must not leave a count behind.
            var taken: [Int] = []
            for index in indexes where limits[index].acrossSessions {
                let limit = limits[index]
                switch shared?.reserve(limit: limit, now: wallNanoseconds)
                    ?? .unavailable("no state directory is configured")
                {
                case .reserved:
                    taken.append(index)
                    continue
                case .full(let nextWall):
                    let wait = RuleInterval.sentence(forNanoseconds: nextWall - wallNanoseconds)
                    refuse(
                        index, now.nanoseconds + (nextWall - wallNanoseconds),
                        "is reached; the next call will be allowed \(wait)")
                case .unavailable(let why):
                    refuse(index, .max, "cannot be checked, so the call is refused: \(why)")
                }
                break
            }
            if refusal != nil {
                for index in taken { shared?.release(limit: limits[index], time: wallNanoseconds) }
            }
        }
        if let refusal {
            let retry = refusal.retry == .max ? nil : MonotonicInstant(nanoseconds: refusal.retry)
            return .refused(refusal.decision, retryAt: retry)
        }
        for index in indexes where !limits[index].acrossSessions {
            if limits[index].per != nil { windows[index].record(now.nanoseconds) } else { used[index] += 1 }
        }
        return .reserved(LimitReservation(limits: indexes, monotonic: now.nanoseconds, wallClock: wallNanoseconds))
    }

    /// Whether a limit of this session alone (not across sessions) has room for a call now; false for a limit
    /// across sessions, which `reserve` checks in full.
    private func hasRoom(_ index: Int, now: Int64) -> Bool {
        guard !countsAcrossSessions[index] else { return false }
        if let interval = windowNanoseconds[index] {
            return windows[index].nextAllowed(now: now, interval: interval) <= now
        }
        return used[index] < limits[index].calls
    }

    /// Gives back a reservation for a call that was not sent after all.
    public mutating func release(_ reservation: LimitReservation) {
        for index in reservation.limits {
            let limit = limits[index]
            if limit.acrossSessions {
                shared?.release(limit: limit, time: reservation.wallClock)
            } else if limit.per != nil {
                windows[index].remove(reservation.monotonic)
            } else {
                used[index] = max(0, used[index] - 1)
            }
        }
    }
}
