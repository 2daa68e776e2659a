// The two extra sections: audit durability (append vs fsync) and memory flatness over many calls.

import Platform

/// RSS samples of the shim over a long run of calls.
struct FlatnessResult {
    /// One sample: calls made so far, current RSS and peak RSS in kB.
    struct Sample {
        let calls: Int
        let rss: Int
        let peak: Int
    }

    let setup: String
    var samples: [Sample] = []
    var seconds = 0.0

    /// Largest deviation of the current RSS from the first sample, as a fraction (0.05 = 5%).
    var drift: Double {
        guard let first = samples.first, first.rss > 0 else { return .infinity }
        return samples.map { abs(Double($0.rss - first.rss)) / Double(first.rss) }.max() ?? 0
    }

    var peak: Int { samples.map(\.peak).max() ?? 0 }
}

/// Runs the sections that are not part of the main comparison.
enum Sections {
    /// shim ×3 under `total` pipelined calls, sampling the shim's VmRSS and VmHWM every `every` calls.
    static func flatness(setup: Setup, plan: Plan, total: Int, every: Int) throws(BenchFailure) -> FlatnessResult {
        var quiet = plan
        quiet.listRepeats = 0
        let session = try Session(setup: setup, plan: quiet, round: 0)
        let templates = setup.echoTools.map {
            CallTemplate(tool: $0, arguments: Session.echoArguments, meta: setup.meta)
        }
        var result = FlatnessResult(setup: setup.id)
        let started = monotonicNanoseconds()
        var made = 0
        while made < total {
            let chunk = min(every, total - made)
            Watchdog.shared.arm(session.peer.pid, seconds: 60 + Double(chunk) / 1_000)
            _ = try Pipeline.run(peer: session.peer, templates: templates, count: chunk, window: plan.window)
            Watchdog.shared.disarm()
            made += chunk
            let pid = session.peer.pid
            result.samples.append(
                FlatnessResult.Sample(
                    calls: made, rss: ProcessStats.statusKilobytes(pid, "VmRSS") ?? 0,
                    peak: ProcessStats.statusKilobytes(pid, "VmHWM") ?? 0))
            progress("  \(made) calls: RSS \(result.samples.last!.rss) kB")
        }
        result.seconds = Double(monotonicNanoseconds() - started) / 1e9
        try session.close()
        return result
    }

    /// The audit's two durability options on the one-server shim, interleaved over `rounds`.
    static func durability(
        workspace: Workspace, plan: Plan, rounds: Int
    ) throws(BenchFailure) -> (setups: [Setup], sessions: [SessionResult]) {
        let setups = [
            try workspace.shimSetup(id: "auditAppend", label: "audit append", servers: 1, tools: Workspace.tools),
            try workspace.shimSetup(
                id: "auditFsync", label: "audit fsync", servers: 1, tools: Workspace.tools, fsync: true),
        ]
        var plan = plan
        plan.blobs = false
        plan.listRepeats = 0
        var sessions: [SessionResult] = []
        for round in 0..<rounds {
            for setup in round % 2 == 0 ? setups : setups.reversed() {
                progress("fsync round \(round + 1)/\(rounds): \(setup.label)")
                sessions.append(try Session.run(setup: setup, plan: plan, round: round, largeBlob: false))
            }
        }
        return (setups, sessions)
    }
}
