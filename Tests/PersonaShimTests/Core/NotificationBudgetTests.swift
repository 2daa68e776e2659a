import Testing

@testable import PersonaShim

/// The notification bound, on a clock the test drives: what passes, and how much the log says about what does not.
@Suite struct NotificationBudgetTests {
    static let millisecond: UInt64 = 1_000_000
    static let tick: UInt64 = 100_000

    /// A server at 10,000 notifications a second for `seconds`: how many pass and what is reported.
    func flood(_ budget: inout NotificationBudget, from start: UInt64, seconds: Int) -> (
        Int, [NotificationBudget.Report]
    ) {
        var admitted = 0
        var reports: [NotificationBudget.Report] = []
        for tick in 0..<(seconds * 10000) {
            let now = start + UInt64(tick) * Self.tick
            if budget.admit(now: now) { admitted += 1 }
            if let report = budget.takeReport(now: now) { reports.append(report) }
        }
        return (admitted, reports)
    }

    @Test func aSustainedFloodIsReportedOnceASecondNotOncePerToken() {
        var budget = NotificationBudget()
        let start: UInt64 = 5_000_000_000
        let (admitted, reports) = flood(&budget, from: start, seconds: 4)
        // A burst of 1000, then 500 a second.
        #expect(admitted >= 2900 && admitted <= 3001, "\(admitted)")
        guard case .started? = reports.first else {
            Issue.record("the first report says dropping started: \(reports)")
            return
        }
        // Dropping starts within the first second, then one summary a second: not one line per token earned.
        #expect(reports.count == 4, "\(reports)")
        let counted = reports.dropFirst().reduce(0) {
            if case .dropped(let count) = $1 { return $0 + count }
            return $0
        }
        #expect(counted > 0 && counted <= 40000 - admitted)
    }

    @Test func aQuietSecondEndsTheRunAndTheNextDropStartsANewOne() {
        var budget = NotificationBudget()
        let (_, first) = flood(&budget, from: 0, seconds: 2)
        #expect(first.count == 2, "\(first)")
        // Quiet, then one notification after the report interval: the drops still unreported are counted.
        let later: UInt64 = 10_000_000_000
        let admittedAfterQuiet = budget.admit(now: later)
        #expect(admittedAfterQuiet)
        guard case .dropped(let count)? = budget.takeReport(now: later) else {
            Issue.record("the drops since the last report are counted")
            return
        }
        #expect(count > 0)
        _ = budget.admit(now: later + Self.millisecond)
        let afterAQuietInterval = budget.takeReport(now: later + 2 * NotificationBudget.reportInterval)
        #expect(afterAQuietInterval == nil)
        let (_, second) = flood(&budget, from: later + 3 * NotificationBudget.reportInterval, seconds: 3)
        guard case .started? = second.first else {
            Issue.record("a new run starts with its own line: \(second)")
            return
        }
    }
}
