// One session: spawn a setup, run every phase against it, close it.

import MCPWire
import PersonaShim
import Platform

/// How much each phase of a session does.
struct Plan {
    var calls = 5_000
    var warmup = 200
    var pipelined = 20_000
    var window = 64
    var listRepeats = 20
    var blobRepeats = 3
    var blobSize = 8 * 1024 * 1024
    var largeBlobSize = 64 * 1024 * 1024
    var blobs = true
}

/// Runs the phases against one fresh process, in this order: initialize and tools/list; sequential calls (latency,
/// CPU); pipelined calls; peak RSS; the 8 MiB and 64 MiB results; peak RSS again; close and wait.
///
/// The measured process is the one spawned: the fixture (direct), the relay, or the shim (never its children).
struct Session {
    static let echoArguments = #"{"text":"hello from persona-bench","n":42}"#
    static let initializeParams =
        #"{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"persona-bench","version":"1"}}"#

    let setup: Setup
    let plan: Plan
    let peer: Peer
    var result: SessionResult

    /// Spawns the setup's process and runs the start-up phase.
    init(setup: Setup, plan: Plan, round: Int) throws(BenchFailure) {
        self.setup = setup
        self.plan = plan
        peer = try Peer(name: setup.label, executable: setup.executable, arguments: setup.arguments)
        result = SessionResult(setup: setup.id, round: round)
        try startUp()
    }

    /// The usual session: every phase, then close. `largeBlob` asks for the 64 MiB result too.
    static func run(setup: Setup, plan: Plan, round: Int, largeBlob: Bool) throws(BenchFailure) -> SessionResult {
        var session = try Session(setup: setup, plan: plan, round: round)
        if !setup.listOnly {
            try session.sequentialCalls()
            try session.pipelinedCalls()
            session.sampleMemory(.rssCalls)
            session.sampleMemory(.rssAnonymous, field: "RssAnon")
            if plan.blobs {
                try session.blobs(large: largeBlob)
            }
        }
        session.sampleMemory(.rssPeak)
        try session.close()
        return session.result
    }

    /// Waits for the answer to `id`, skipping notifications; the line is valid until the next read.
    func answer(to id: Int, what: String) throws(BenchFailure) -> UnsafeRawBufferPointer {
        while true {
            let line = try peer.readLine(waitingFor: what)
            do {
                switch try Wire.classify(line) {
                case .other: continue
                case .result(let answered) where answered == id: return line
                case .result(let answered):
                    throw BenchFailure("an answer to request \(answered) while waiting for \(id)")
                }
            } catch {
                throw BenchFailure("\(setup.label): \(what): \(error)")
            }
        }
    }

    private mutating func startUp() throws(BenchFailure) {
        Watchdog.shared.arm(peer.pid, seconds: 30)
        defer { Watchdog.shared.disarm() }
        if !setup.modern {
            try peer.send(Wire.request(id: 0, method: "initialize", params: Self.initializeParams))
            _ = try answer(to: 0, what: "initialize")
            result.values[.initialize] = milliseconds(since: peer.spawnedAt)
            try peer.send(Wire.notification(method: "notifications/initialized"))
        }
        let listID = takeID()
        try peer.send(Wire.request(id: listID, method: "tools/list", params: setup.meta.map { #"{"_meta":\#($0)}"# }))
        let first = try answer(to: listID, what: "tools/list")
        result.values[.ready] = milliseconds(since: peer.spawnedAt)
        // A 2026-07-28 agent has no handshake: its start-up is its first answer.
        if setup.modern { result.values[.initialize] = result.values[.ready] }
        result.values[.listBytes] = Double(first.count + 1)
        let tools = (try? JSONValue.parse(first))?["result"]?["tools"]?.arrayValue?.count ?? -1
        result.values[.toolCount] = Double(tools)
        guard tools == setup.expectedTools else {
            throw BenchFailure("\(setup.label): tools/list returned \(tools) tools, expected \(setup.expectedTools)")
        }
        var samples: [Double] = []
        for _ in 0..<plan.listRepeats {
            let id = takeID()
            let started = monotonicNanoseconds()
            try peer.send(Wire.request(id: id, method: "tools/list", params: setup.meta.map { #"{"_meta":\#($0)}"# }))
            _ = try answer(to: id, what: "tools/list")
            samples.append(Double(monotonicNanoseconds() - started) / 1e3)
        }
        result.values[.listLatency] = Stats.median(samples)
    }

    private mutating func sequentialCalls() throws(BenchFailure) {
        Watchdog.shared.arm(peer.pid, seconds: 60 + Double(plan.calls) / 1_000)
        defer { Watchdog.shared.disarm() }
        let templates = setup.echoTools.map { CallTemplate(tool: $0, arguments: Self.echoArguments, meta: setup.meta) }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        for (index, template) in templates.enumerated() {
            let id = takeID()
            template.write(id: id, into: &line)
            try peer.send(line)
            try Wire.validateToolResult(try answer(to: id, what: "tools/call"), what: setup.echoTools[index])
        }
        for index in 0..<plan.warmup {
            let id = takeID()
            templates[index % templates.count].write(id: id, into: &line)
            try peer.send(line)
            _ = try answer(to: id, what: "tools/call")
        }
        let cpuBefore = ProcessStats.cpuNanoseconds(peer.pid)
        var samples = [UInt64](repeating: 0, count: plan.calls)
        for index in 0..<plan.calls {
            let id = takeID()
            templates[index % templates.count].write(id: id, into: &line)
            let started = monotonicNanoseconds()
            try peer.send(line)
            _ = try answer(to: id, what: "tools/call")
            samples[index] = monotonicNanoseconds() - started
        }
        if let cpuBefore, let cpuAfter = ProcessStats.cpuNanoseconds(peer.pid), plan.calls > 0 {
            result.values[.cpuPerCall] = Double(cpuAfter - cpuBefore) / 1e3 / Double(plan.calls)
        }
        samples.sort()
        result.values[.callP50] = Double(Stats.percentile(samples, 50)) / 1e3
        result.values[.callP90] = Double(Stats.percentile(samples, 90)) / 1e3
        result.values[.callP99] = Double(Stats.percentile(samples, 99)) / 1e3
    }

    private mutating func pipelinedCalls() throws(BenchFailure) {
        Watchdog.shared.arm(peer.pid, seconds: 60 + Double(plan.pipelined) / 1_000)
        defer { Watchdog.shared.disarm() }
        let templates = setup.echoTools.map { CallTemplate(tool: $0, arguments: Self.echoArguments, meta: setup.meta) }
        let seconds = try Pipeline.run(peer: peer, templates: templates, count: plan.pipelined, window: plan.window)
        result.values[.throughput] = Double(plan.pipelined) / seconds
    }

    /// Each size is asked for once unmeasured first, so that one-time costs (the fixture building its cached
    /// result, buffers growing on both sides) do not count, and the 64 MiB figure scales from the 8 MiB one.
    private mutating func blobs(large: Bool) throws(BenchFailure) {
        _ = try blob(size: plan.blobSize)
        var samples: [Double] = []
        for _ in 0..<plan.blobRepeats {
            samples.append(try blob(size: plan.blobSize))
        }
        let small = Stats.median(samples)
        result.values[.blob] = small
        guard large else { return }
        do {
            _ = try blob(size: plan.largeBlobSize)
            let milliseconds = try blob(size: plan.largeBlobSize)
            result.values[.largeBlob] = milliseconds
            if let small {
                let ratio = Double(plan.largeBlobSize) / Double(plan.blobSize)
                result.values[.blobScaling] = milliseconds / (small * ratio)
            }
        } catch {
            result.notes.append("\(plan.largeBlobSize >> 20) MiB result: \(error)")
        }
    }

    /// One blob call, in milliseconds; throws unless the answer carries at least `size` bytes.
    private mutating func blob(size: Int) throws(BenchFailure) -> Double {
        Watchdog.shared.arm(peer.pid, seconds: 60)
        defer { Watchdog.shared.disarm() }
        var line: [UInt8] = []
        let id = takeID()
        CallTemplate(tool: setup.blobTool, arguments: #"{"bytes":\#(size)}"#, meta: setup.meta).write(
            id: id, into: &line)
        let started = monotonicNanoseconds()
        try peer.send(line)
        let reply = try answer(to: id, what: "a \(size >> 20) MiB blob")
        let elapsed = milliseconds(since: started)
        guard reply.count >= size else {
            throw BenchFailure("\(setup.label): the \(size >> 20) MiB blob came back with \(reply.count) bytes")
        }
        return elapsed
    }

    private mutating func sampleMemory(_ metric: Metric, field: String = "VmHWM") {
        if let kilobytes = ProcessStats.statusKilobytes(peer.pid, field) {
            result.values[metric] = Double(kilobytes)
        }
    }

    /// Closes stdin and waits for a clean exit; removes the session's audit trail.
    func close() throws(BenchFailure) {
        let status = peer.finish()
        if let auditPath = setup.auditPath { unlink(auditPath) }
        guard status == .exited(0) else {
            throw BenchFailure("\(setup.label) \(status) after its input closed\n\(peer.standardError)")
        }
    }

    private mutating func takeID() -> Int {
        defer { peer.nextID += 1 }
        return peer.nextID
    }

    private func milliseconds(since start: UInt64) -> Double {
        Double(monotonicNanoseconds() - start) / 1e6
    }
}
