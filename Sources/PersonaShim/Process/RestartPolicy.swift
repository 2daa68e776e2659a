/// When a server that stopped is started again: after 1 s, 2 s, 4 s … (at most `maximumDelay`), at most
/// `perMinute` times within a minute, and not at all after `startFailureLimit` failures in a row before the server
/// ever became ready. A server that cannot start (a loop, a machine out of processes) is then given up on, not
/// restarted for ever.
struct RestartPolicy: Equatable {
    enum Decision: Equatable {
        case restart(afterSeconds: Double)
        /// Why not, as a sentence fragment for the log ("crashed 5 times within a minute").
        case giveUp(String)
    }

    var perMinute = 5
    var startFailureLimit = 5
    var maximumDelay = 30.0
    /// Monotonic times (ns) of the restarts within the last minute.
    private(set) var recent: [UInt64] = []
    /// Failures since the server was last ready.
    private(set) var failuresBeforeReady = 0
    /// Every restart so far.
    private(set) var attempts = 0

    /// The server stopped at `now`; `wasReady` tells whether it had become ready since it was (re)started.
    mutating func decide(now: UInt64, wasReady: Bool) -> Decision {
        failuresBeforeReady = wasReady ? 0 : failuresBeforeReady + 1
        recent.removeAll { now &- $0 > 60_000_000_000 }
        if failuresBeforeReady >= startFailureLimit {
            return .giveUp("failed \(failuresBeforeReady) times in a row before becoming ready")
        }
        if recent.count >= perMinute { return .giveUp("crashed \(recent.count) times within a minute") }
        let exponent = max(recent.count, failuresBeforeReady - 1)
        return .restart(afterSeconds: min(maximumDelay, Double(1 << min(exponent, 20))))
    }

    /// A restart happens at `now`.
    mutating func attempted(now: UInt64) {
        recent.append(now)
        attempts += 1
    }
}
