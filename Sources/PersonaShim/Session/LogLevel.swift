/// MCP logging levels, in increasing severity (RFC 5424 order).
struct LogLevel: Comparable {
    static let names = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
    let rank: Int

    init?(_ name: String) {
        guard let rank = Self.names.firstIndex(of: name) else { return nil }
        self.rank = rank
    }

    static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Milliseconds with three decimals, without Foundation's formatter on the hot path.
func formatMilliseconds(_ milliseconds: Double) -> String {
    let micros = Int((milliseconds * 1000).rounded())
    let fraction = String(micros % 1000)
    return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
