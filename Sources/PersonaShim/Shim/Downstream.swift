#if canImport(Glibc)
    import Glibc
#endif

/// One downstream server as the session sees it: its process, pipes and what it told us about itself.
final class Downstream {
    enum Phase: Equatable {
        case idle, initializing, listing, ready
        /// Never became usable (could not start, or did not finish `initialize` in time).
        case failed
        /// Was running and went away.
        case gone
    }

    let spec: ServerSpec
    let index: Int
    var pid: pid_t = 0
    var stdinFD: Int32 = -1
    var stdoutFD: Int32 = -1
    var stderrFD: Int32 = -1
    let stdout: LineReader
    let stderr: LineReader
    let input = OutputBuffer()
    var phase: Phase = .idle
    var tools: [JSONObject] = []
    var partialTools: [JSONObject] = []
    var serverInfo: JSONValue?
    var protocolVersion: String?
    var exitStatus: ExitStatus?
    var exitRecorded = false
    var startedAt: UInt64 = 0

    init(spec: ServerSpec, index: Int, lineLimit: Int) {
        self.spec = spec
        self.index = index
        self.stdout = LineReader(limit: lineLimit)
        self.stderr = LineReader(limit: 64 * 1024)
    }

    var name: String { spec.name }
    var isSettled: Bool { phase == .ready || phase == .failed || phase == .gone }
    var isRunning: Bool { pid > 0 && exitStatus == nil }
}

/// A request the shim sent to a downstream server and is waiting on.
enum PendingRequest {
    case initialize(server: Int)
    case listTools(server: Int, page: Int)
    case call(ForwardedCall)

    var server: Int {
        switch self {
        case .initialize(let server), .listTools(let server, _): server
        case .call(let call): call.server
        }
    }
}

/// An agent's `tools/call` on its way through a downstream server.
struct ForwardedCall {
    var agentID: [UInt8]
    var server: Int
    var exposedName: String
    var tool: String
    var argsDigest: String
    var started: UInt64
    var deadline: UInt64
}

/// Monotonic time in nanoseconds.
func monotonicNow() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1e9) }
