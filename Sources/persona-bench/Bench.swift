// The run: rounds of interleaved sessions, then the tables, the extra sections and the summary.

import Foundation
import PersonaShim
import Platform

/// Runs the benchmark as the options ask and returns the exit code: 0, or 1 when something functionally failed.
enum Bench {
    static func main(_ arguments: [String]) -> Int32 {
        let options: BenchOptions
        switch BenchOptions.parse(Array(arguments.dropFirst())) {
        case .success(let parsed):
            options = parsed
        case .failure(let error):
            guard let message = error.message else {
                print(BenchOptions.usage)
                return 0
            }
            progress("persona-bench: \(message)\n\n\(BenchOptions.usage)")
            return 64
        }
        signal(SIGPIPE, SIG_IGN)
        let workspace: Workspace
        do {
            workspace = try Workspace()
        } catch {
            progress("persona-bench: \(error)")
            return 1
        }
        defer { workspace.cleanUp() }
        let started = monotonicNanoseconds()
        do {
            var run = Run(options: options, workspace: workspace)
            try run.perform()
            let seconds = Double(monotonicNanoseconds() - started) / 1e9
            run.printSummary(seconds: seconds)
            if let path = options.jsonPath {
                try run.writeJSON(to: path, seconds: seconds)
            }
            return 0
        } catch {
            print("\npersona-bench: FAILED: \(error)")
            progress("persona-bench: FAILED: \(error)")
            return 1
        }
    }
}

/// The state of one run, filled in section by section.
struct Run {
    let options: BenchOptions
    let workspace: Workspace
    var setups: [Setup] = []
    var sessions: [SessionResult] = []
    var outcomes: [BarOutcome] = []
    var durability: (setups: [Setup], sessions: [SessionResult])?
    var flatness: FlatnessResult?
    var maskingScan: MaskingScanResult?
    /// Bars outside the session metrics (the masking scan's MB/s): what the summary shows, and whether met.
    var otherOutcomes: [(text: String, passed: Bool)] = []

    init(options: BenchOptions, workspace: Workspace) {
        self.options = options
        self.workspace = workspace
    }

    mutating func perform() throws(BenchFailure) {
        if options.maskingOnly {
            if options.smoke { print("smoke mode: timings are not meaningful") }
            try maskingSection()
            return
        }
        setups = try workspace.mainSetups()
        if !options.only.isEmpty {
            setups = setups.filter { options.only.contains($0.id) }
            guard !setups.isEmpty else {
                throw BenchFailure(
                    "--only matched none of direct, relay, shim, rules, masking, maskingHits, shimModern, shim3, shim5")
            }
        }
        printHeader()
        try mainComparison()
        if options.fsync {
            try durabilitySection()
        }
        if options.million, let shim3 = setups.first(where: { $0.id == "shim3" }) {
            try flatnessSection(shim3)
        }
        try maskingSection()
    }

    private mutating func maskingSection() throws(BenchFailure) {
        progress("masking scan: \(options.maskingBytes / 1024) KiB texts, \(options.maskingRepeats) repeats")
        let result = try MaskingScan.run(
            bytes: options.maskingBytes, repeats: options.maskingRepeats, perDetector: options.maskingOnly,
            workspace: workspace)
        maskingScan = result
        let passed = result.cleanThroughput >= 300
        MaskingScan.printSection(result, verdict: verdict(passed))
        if !options.smoke { otherOutcomes.append(("masking scan ≥ 300 MB/s on text without secrets", passed)) }
    }

    private func printHeader() {
        let plan = options.plan
        print("persona-bench: persona-shim vs a byte-copy relay, same fixture, interleaved rounds")
        print(
            "machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores; build: \(Self.buildKind); "
                + "\(options.rounds) rounds; per session \(plan.calls) sequential calls after \(plan.warmup) warm-up, "
                + "\(plan.pipelined) pipelined (\(plan.window) in flight), \(plan.listRepeats) tools/list, "
                + "\(plan.blobRepeats) × 8 MiB and 1 × 64 MiB, each after one unmeasured")
        print(
            "fixture: persona-fixture --tools \(Workspace.tools) (48 tools); shim persona: allow fx*__*, deny "
                + "fx*__crash fx*__hang fx*__tool_03*, write-ahead audit; ratios are medians over rounds vs relay")
        print(
            "shim + rules: the same persona plus an argument rule on the echo tool, a rate limit and a budget too "
                + "high to reach, behaviour and flow rules, annotation overrides, data-class labels, a tool whose text is cleaned"
        )
        print(
            "shim + masking: the same persona plus masking with every built-in detector and the outbound secrets "
                + "check (nothing the benchmark sends or gets back holds a match); a hit per KiB: the same, with an "
                + "e-mail address in every KiB of the blob results (each one masked)")
        if options.smoke { print("smoke mode: timings are not meaningful") }
    }

    static var buildKind: String {
        #if DEBUG
            return "DEBUG (figures are not meaningful; use -c release)"
        #else
            return "release"
        #endif
    }

    private mutating func mainComparison() throws(BenchFailure) {
        var largeBlob = Set(setups.map(\.id))
        for round in 0..<options.rounds {
            // Rotate the order each round, so no setup always runs first (cold caches) or last.
            let shift = round % setups.count
            for setup in setups[shift...] + setups[..<shift] {
                progress("round \(round + 1)/\(options.rounds): \(setup.label)")
                let result = try Session.run(
                    setup: setup, plan: options.plan, round: round, largeBlob: largeBlob.contains(setup.id))
                if !result.notes.isEmpty {
                    // A size the setup cannot carry once will not work in later rounds either.
                    largeBlob.remove(setup.id)
                }
                sessions.append(result)
            }
        }
        // With --only, judge just the bars whose setups both ran.
        let ran = Set(setups.map(\.id))
        let bars = Bar.main.filter { ran.contains($0.setup) && $0.reference.map(ran.contains) != false }
        let report = Report(
            setups: setups.map { ($0.id, $0.label) }, sessions: sessions, reference: "relay",
            // Smoke counts are too small to judge speed; a MISS there would read like a failure in a CI log.
            bars: options.smoke ? [] : bars)
        outcomes += report.printTables(Metric.allCases)
    }

    private mutating func durabilitySection() throws(BenchFailure) {
        var plan = options.plan
        plan.calls = options.fsyncCalls
        plan.pipelined = options.fsyncPipelined
        plan.warmup = min(plan.warmup, 20)
        let section = try Sections.durability(workspace: workspace, plan: plan, rounds: options.rounds)
        durability = section
        print("\n== audit durability: shim (one server), plain append vs fdatasync after every audit write ==")
        print("(\(plan.calls) sequential and \(plan.pipelined) pipelined calls per session; two records per call)")
        let report = Report(
            setups: section.setups.map { ($0.id, $0.label) }, sessions: section.sessions, reference: "auditAppend",
            bars: [])
        _ = report.printTables([.callP50, .callP99, .throughput, .cpuPerCall])
    }

    private mutating func flatnessSection(_ setup: Setup) throws(BenchFailure) {
        let total = options.millionCalls
        progress("memory flatness: \(total) calls through \(setup.label)")
        let result = try Sections.flatness(setup: setup, plan: options.plan, total: total, every: options.millionEvery)
        flatness = result
        print("\n== shim ×3 memory over \(total) pipelined calls (\(format(result.seconds, decimals: 1)) s) ==")
        print("  " + pad("calls", 12, right: true) + pad("RSS MB", 12, right: true) + pad("peak MB", 12, right: true))
        for sample in result.samples {
            print(
                "  " + pad(String(sample.calls), 12, right: true)
                    + pad(Metric.rssCalls.display(Double(sample.rss)), 12, right: true)
                    + pad(Metric.rssCalls.display(Double(sample.peak)), 12, right: true))
        }
        let flat = result.drift <= 0.10
        let small = Double(result.peak) <= Bar.megabytes(16)
        print(
            "  RSS drift from the first sample: \(format(result.drift * 100, decimals: 1))%   bar ±10%   "
                + verdict(flat))
        print(
            "  peak RSS: \(Metric.rssCalls.display(Double(result.peak))) MB   bar ≤ 16 MB   "
                + verdict(small))
        outcomes.append(
            BarOutcome(
                bar: Bar(
                    metric: .rssCalls, setup: "shim3", limit: .atMost(0.10), text: "flat ±10% over \(total) calls"),
                passed: flat))
        outcomes.append(
            BarOutcome(
                bar: Bar(metric: .rssCalls, setup: "shim3", limit: .atMost(16), text: "≤ 16 MB over \(total) calls"),
                passed: small))
    }

    /// A bar's verdict, or nothing in smoke mode, whose counts are too small to judge.
    func verdict(_ passed: Bool) -> String {
        options.smoke ? "(not judged in smoke mode)" : passed ? "PASS" : "MISS"
    }

    func printSummary(seconds: Double) {
        let labels = Dictionary(uniqueKeysWithValues: setups.map { ($0.id, $0.label) })
        let missedText =
            outcomes.filter { $0.passed != true }.map {
                "\(labels[$0.bar.setup] ?? $0.bar.setup) \($0.bar.metric.short) \($0.bar.text)"
            } + otherOutcomes.filter { !$0.passed }.map(\.text)
        let total = outcomes.count + otherOutcomes.count
        print("")
        if options.smoke {
            print("smoke mode: timings are not meaningful")
            print(
                "summary: every setup and metric ran (\(sessions.count) sessions, \(format(seconds, decimals: 1)) s); "
                    + "bars not judged in smoke mode")
            return
        }
        var line = "summary: \(total - missedText.count) of \(total) bars met"
        if !missedText.isEmpty { line += "; missed: " + missedText.joined(separator: "; ") }
        line += " (\(options.rounds) rounds, \(format(seconds, decimals: 1)) s, \(Self.buildKind))"
        print(line)
    }
}
