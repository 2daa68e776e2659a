// What is measured, and what one session produced.

/// One figure the benchmark reports, with its unit and how it is shown.
enum Metric: String, CaseIterable, Sendable {
    case initialize = "initializeMs"
    case ready = "readyMs"
    case listLatency = "toolsListUs"
    case listBytes = "toolsListBytes"
    case toolCount = "toolsListed"
    case callP50 = "callP50Us"
    case callP90 = "callP90Us"
    case callP99 = "callP99Us"
    case throughput = "pipelinedCallsPerSecond"
    case cpuPerCall = "cpuPerCallUs"
    case blob = "blob8MiBMs"
    case largeBlob = "blob64MiBMs"
    case blobScaling = "blob64PerByteVs8"
    case rssCalls = "peakRSSCallsKB"
    case rssAnonymous = "anonymousRSSCallsKB"
    case rssPeak = "peakRSSAllKB"

    var title: String {
        switch self {
        case .initialize: return "time to the initialize answer, from spawn"
        case .ready: return "ready: spawn to the first tools/list answer (info)"
        case .listLatency: return "tools/list latency (warm)"
        case .listBytes: return "tools/list answer size"
        case .toolCount: return "tools listed"
        case .callP50: return "tools/call latency p50 (sequential echo)"
        case .callP90: return "tools/call latency p90"
        case .callP99: return "tools/call latency p99"
        case .throughput: return "pipelined throughput (64 in flight)"
        case .cpuPerCall: return "CPU time per call of the measured process (sequential phase)"
        case .blob: return "8 MiB tool result"
        case .largeBlob: return "64 MiB tool result"
        case .blobScaling: return "64 MiB vs 8 MiB cost per byte (1.00 = linear)"
        case .rssCalls: return "peak RSS of the measured process after the call phases"
        case .rssPeak: return "peak RSS of the measured process including the blob phases"
        case .rssAnonymous: return "of which private (anonymous) after the call phases, not shared libraries (info)"
        }
    }

    /// A few words for the summary line.
    var short: String {
        switch self {
        case .initialize: return "initialize"
        case .ready: return "ready"
        case .listLatency: return "tools/list"
        case .listBytes: return "tools/list bytes"
        case .toolCount: return "tools listed"
        case .callP50: return "call p50"
        case .callP90: return "call p90"
        case .callP99: return "call p99"
        case .throughput: return "pipelined throughput"
        case .cpuPerCall: return "CPU per call"
        case .blob: return "8 MiB result"
        case .largeBlob: return "64 MiB result"
        case .blobScaling: return "64 MiB linearity"
        case .rssCalls: return "RSS"
        case .rssPeak: return "RSS incl. blobs"
        case .rssAnonymous: return "private RSS"
        }
    }

    var unit: String {
        switch self {
        case .initialize, .ready, .blob, .largeBlob: return "ms"
        case .listLatency, .callP50, .callP90, .callP99, .cpuPerCall: return "µs"
        case .listBytes: return "bytes"
        case .toolCount: return "tools"
        case .throughput: return "calls/s"
        case .blobScaling: return "×"
        case .rssCalls, .rssPeak, .rssAnonymous: return "MB"
        }
    }

    /// The stored value as shown (kB become MB).
    func display(_ value: Double) -> String {
        switch self {
        case .rssCalls, .rssPeak, .rssAnonymous: return format(value * 1024 / 1_000_000, decimals: 2)
        case .listBytes, .toolCount, .throughput: return format(value, decimals: 0)
        case .blobScaling: return format(value, decimals: 2)
        default: return format(value, decimals: value < 100 ? 2 : 1)
        }
    }
}

/// One setup, one round: a fresh process measured from spawn to exit.
struct SessionResult {
    let setup: String
    let round: Int
    var values: [Metric: Double] = [:]
    /// Things that did not work but are not failures of the run (e.g. a 64 MiB answer the shim dropped).
    var notes: [String] = []
}

/// Fixed-point text without Foundation's formatter.
func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "—" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = scaled / Int(scale)
    var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
    if decimals > 0 {
        let fraction = String(scaled % Int(scale))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return text
}
