// Tables, bars and the closing summary.

import Platform

/// A limit that one setup's median must meet, against another setup's median or an absolute value.
struct Bar {
    enum Limit {
        /// value ≤ factor × the reference setup's value.
        case atMostTimes(String, Double)
        /// value ≥ factor × the reference setup's value.
        case atLeastTimes(String, Double)
        /// value ≤ this, in the metric's stored unit.
        case atMost(Double)
    }

    let metric: Metric
    let setup: String
    let limit: Limit
    /// How the table shows the limit, e.g. "≤ 1.5× relay".
    let text: String

    /// The bars of the issue, for the main comparison.
    static let main: [Bar] = [
        Bar(metric: .initialize, setup: "shim", limit: .atMostTimes("relay", 1.5), text: "≤ 1.5× relay"),
        Bar(metric: .initialize, setup: "shim3", limit: .atMostTimes("shim", 1.5), text: "≤ 1.5× shim"),
        Bar(metric: .listLatency, setup: "shim5", limit: .atMost(5_000), text: "< 5 ms"),
        Bar(metric: .callP50, setup: "shim", limit: .atMostTimes("relay", 1.5), text: "≤ 1.5× relay"),
        Bar(metric: .callP50, setup: "shim3", limit: .atMostTimes("relay", 1.5), text: "≤ 1.5× relay"),
        Bar(metric: .callP50, setup: "rules", limit: .atMostTimes("relay", 1.5), text: "≤ 1.5× relay"),
        Bar(metric: .callP50, setup: "shimModern", limit: .atMostTimes("relay", 1.5), text: "≤ 1.5× relay"),
        Bar(metric: .callP99, setup: "shim", limit: .atMostTimes("relay", 2), text: "≤ 2× relay"),
        Bar(metric: .callP99, setup: "shim3", limit: .atMostTimes("relay", 2), text: "≤ 2× relay"),
        Bar(metric: .throughput, setup: "shim", limit: .atLeastTimes("relay", 0.5), text: "≥ 0.5× relay"),
        Bar(metric: .throughput, setup: "shim3", limit: .atLeastTimes("relay", 0.5), text: "≥ 0.5× relay"),
        Bar(metric: .throughput, setup: "rules", limit: .atLeastTimes("relay", 0.5), text: "≥ 0.5× relay"),
        Bar(metric: .throughput, setup: "shimModern", limit: .atLeastTimes("relay", 0.5), text: "≥ 0.5× relay"),
        Bar(metric: .blob, setup: "shim", limit: .atMostTimes("relay", 2), text: "≤ 2× relay"),
        Bar(metric: .blob, setup: "shim3", limit: .atMostTimes("relay", 2), text: "≤ 2× relay"),
        Bar(metric: .blob, setup: "shimModern", limit: .atMostTimes("relay", 2), text: "≤ 2× relay"),
        Bar(metric: .blobScaling, setup: "shim", limit: .atMost(1.25), text: "≤ 1.25 (linear)"),
        Bar(metric: .blobScaling, setup: "shim3", limit: .atMost(1.25), text: "≤ 1.25 (linear)"),
        Bar(metric: .rssCalls, setup: "shim3", limit: .atMost(megabytes(16)), text: "≤ 16 MB"),
        // The "shim + masking" setup (MaskingSetup.swift).
        Bar(metric: .blob, setup: "masking", limit: .atMostTimes("relay", 3), text: "≤ 3× relay"),
    ]

    /// 16 MB (decimal) in kB of 1024 bytes, the unit of /proc/PID/status.
    static func megabytes(_ count: Double) -> Double { count * 1_000_000 / 1024 }

    /// The setup the limit is relative to, if any.
    var reference: String? {
        switch limit {
        case .atMostTimes(let reference, _), .atLeastTimes(let reference, _): return reference
        case .atMost: return nil
        }
    }

    /// Whether `medians` meet the bar; nil when a figure is missing.
    func check(_ medians: [String: [Metric: Double]]) -> Bool? {
        guard let value = medians[setup]?[metric] else { return nil }
        switch limit {
        case .atMostTimes(let reference, let factor):
            guard let base = medians[reference]?[metric] else { return nil }
            return value <= factor * base
        case .atLeastTimes(let reference, let factor):
            guard let base = medians[reference]?[metric] else { return nil }
            return value >= factor * base
        case .atMost(let maximum):
            return value <= maximum
        }
    }
}

/// What a bar came to in this run.
struct BarOutcome {
    let bar: Bar
    /// nil when the figure could not be measured (which counts as missed).
    let passed: Bool?
    var label: String { passed == true ? "PASS" : passed == false ? "MISS" : "MISS (not measured)" }
}

/// Prints the figures as one table per metric.
struct Report {
    /// Setups in table order, as (id, label).
    let setups: [(id: String, label: String)]
    /// Every session's result.
    let sessions: [SessionResult]
    /// The setup ratios are taken against.
    let reference: String
    let bars: [Bar]

    /// Median over rounds, per setup and metric.
    var medians: [String: [Metric: Double]] {
        var medians: [String: [Metric: Double]] = [:]
        for (id, _) in setups {
            let mine = sessions.filter { $0.setup == id }
            for metric in Metric.allCases {
                if let median = Stats.median(mine.compactMap { $0.values[metric] }) {
                    medians[id, default: [:]][metric] = median
                }
            }
        }
        return medians
    }

    /// Prints the tables of `metrics` and returns the outcome of every bar.
    func printTables(_ metrics: [Metric]) -> [BarOutcome] {
        let medians = self.medians
        var outcomes: [BarOutcome] = []
        let referenceLabel = setups.first { $0.id == reference }?.label ?? reference
        for metric in metrics {
            let rows = setups.filter { medians[$0.id]?[metric] != nil }
            guard !rows.isEmpty else { continue }
            print("\n\(metric.title), \(metric.unit)")
            print(
                "  " + pad("setup", 22) + pad("median", 12, right: true) + pad("min–max", 22, right: true)
                    + pad("vs " + referenceLabel, 16, right: true)
                    + (bars.isEmpty ? "" : "   " + pad("bar", 18) + "result"))
            for row in rows {
                let values = sessions.filter { $0.setup == row.id }.compactMap { $0.values[metric] }
                let median = medians[row.id]![metric]!
                let range = "\(metric.display(values.min()!))–\(metric.display(values.max()!))"
                var ratio = ""
                if let base = medians[reference]?[metric], base != 0, metric != .blobScaling {
                    ratio = format(median / base, decimals: 2) + "×"
                }
                var line =
                    "  " + pad(row.label, 22) + pad(metric.display(median), 12, right: true)
                    + pad(range, 22, right: true) + pad(ratio, 16, right: true)
                for bar in bars where bar.metric == metric && bar.setup == row.id {
                    let outcome = BarOutcome(bar: bar, passed: bar.check(medians))
                    outcomes.append(outcome)
                    line += "   " + pad(bar.text, 18) + outcome.label
                }
                print(line)
            }
        }
        // Bars on figures that were never measured count as missed.
        for bar in bars where !outcomes.contains(where: { $0.bar.metric == bar.metric && $0.bar.setup == bar.setup }) {
            outcomes.append(BarOutcome(bar: bar, passed: nil))
            let label = setups.first { $0.id == bar.setup }?.label ?? bar.setup
            print("\n\(metric: bar.metric), \(label): not measured (see the notes); bar \(bar.text): MISS")
        }
        for session in sessions {
            for note in session.notes {
                let label = setups.first { $0.id == session.setup }?.label ?? session.setup
                print("\nnote: \(label), round \(session.round + 1): \(note)")
            }
        }
        return outcomes
    }
}

extension DefaultStringInterpolation {
    fileprivate mutating func appendInterpolation(metric: Metric) {
        appendLiteral(metric.title)
    }
}

/// `text` padded with spaces to `width` characters (on the left when `right`).
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

/// A progress line on stderr, so that stdout holds only the report.
func progress(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.append(0x0A)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
