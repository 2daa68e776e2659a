#if canImport(Glibc)
    import Glibc
#endif

/// One downstream server as the session sees it: its process, pipes and what it told us about itself.
final class Downstream {
    enum Phase: Equatable {
        case idle, initializing, listing, ready
        /// Never became usable (could not start, or did not finish `initialize` in time).
        case failed
        /// Was running and went away (it may be restarted).
        case gone
    }

    let spec: ServerSpec
    let index: Int
    var pid: pid_t = 0
    var stdinFD: Int32 = -1
    var stdoutFD: Int32 = -1
    var stderrFD: Int32 = -1
    var stdout: LineReader
    var stderr: LineReader
    let input = OutputBuffer()
    /// Forwards queued since its input was last written (see `ShimSession.releaseGroup`).
    var forwardsSinceFlush = 0
    var phase: Phase = .idle
    var tools: [JSONObject] = []
    var prompts: [JSONObject] = []
    var partialList: [JSONObject] = []
    var partialPrompts: [JSONObject] = []
    /// The current listing of each list; a `list_changed` during a listing starts a new one.
    var listGeneration: [String: Int] = [:]
    /// Lists still being fetched before the server counts as ready.
    var listsPending = 0
    var serverInfo: JSONValue?
    var capabilities = JSONObject()
    var protocolVersion: String?
    var exitStatus: ExitStatus?
    var exitRecorded = false
    var startedAt: UInt64 = 0
    /// When it is restarted after it stopped, and when it is given up on.
    var restartPolicy = RestartPolicy()
    var restartAt: UInt64?
    /// Set when the server's output closed before its exit could be collected.
    var departureDeadline: UInt64?
    /// Set when the shim itself stopped the server (timeout, shutdown): no restart then.
    var stoppedByShim = false
    let lineLimit: Int

    init(spec: ServerSpec, index: Int, lineLimit: Int) {
        self.spec = spec
        self.index = index
        self.lineLimit = lineLimit
        self.stdout = LineReader(limit: lineLimit)
        self.stderr = LineReader(limit: 64 * 1024)
    }

    var name: String { spec.name }
    var isSettled: Bool { phase == .ready || phase == .failed || phase == .gone }
    /// Past `initialize`: its capabilities are known (or it will never have any).
    var hasAnsweredInitialize: Bool { phase != .idle && phase != .initializing }
    var isRunning: Bool { pid > 0 && exitStatus == nil }

    func offers(_ capability: String) -> Bool { phase == .ready && capabilities[capability] != nil }

    /// Forgets the previous process before a restart.
    func resetForRestart() {
        pid = 0
        exitStatus = nil
        exitRecorded = false
        stoppedByShim = false
        departureDeadline = nil
        stdout = LineReader(limit: lineLimit)
        stderr = LineReader(limit: 64 * 1024)
        input.discardAll()
        phase = .idle
        partialList = []
        partialPrompts = []
        listsPending = 0
    }
}

/// A request the shim sent to a downstream server and is waiting on.
enum PendingRequest {
    case initialize(server: Int)
    /// One page of the server's `tools/list` or `prompts/list` (`key`); pages of an older listing are ignored.
    case list(server: Int, key: String, page: Int, generation: Int)
    case forward(ForwardedRequest)
    /// One page of one server's part of an aggregated list the agent asked for.
    case fanOutPage(fanOut: Int, server: Int, page: Int)
    /// A request the shim made for its own reasons (e.g. `logging/setLevel` fan-out); the answer is not needed.
    case internalRequest(server: Int)

    var server: Int {
        switch self {
        case .initialize(let server), .list(let server, _, _, _), .fanOutPage(_, let server, _),
            .internalRequest(let server):
            server
        case .forward(let request): request.server
        }
    }
}

/// What an agent's request was about, for the audit trail and the result rewriting.
enum RequestSubject {
    case tool, prompt, resource, completion, subscription

    var auditField: StaticString {
        switch self {
        case .tool: "tool"
        case .prompt: "prompt"
        case .resource, .subscription: "resource"
        case .completion: "ref"
        }
    }
}

/// An agent's request on its way through a downstream server.
final class ForwardedRequest {
    let agentID: [UInt8]
    let server: Int
    let method: String
    let subject: RequestSubject
    /// The tool or prompt name, or the URI, as the agent sees it.
    let exposedName: String
    /// The request's server, method and name as its audit records carry them (`RecordedEntry.subject`).
    let recordedSubject: [UInt8]
    /// The SHA-256 of the canonical arguments.
    let argsDigest: SHA256.Digest?
    let started: UInt64
    let deadline: UInt64
    /// The shim's progress token for this request, if the agent asked for progress.
    let progressToken: Int?

    init(
        agentID: [UInt8], server: Int, method: String, subject: RequestSubject, exposedName: String,
        recordedSubject: [UInt8], argsDigest: SHA256.Digest?, started: UInt64, deadline: UInt64, progressToken: Int?
    ) {
        self.agentID = agentID
        self.server = server
        self.method = method
        self.subject = subject
        self.exposedName = exposedName
        self.recordedSubject = recordedSubject
        self.argsDigest = argsDigest
        self.started = started
        self.deadline = deadline
        self.progressToken = progressToken
    }
}

/// What every request for one tool, prompt or resource shares, made once: its audit subject
/// (`,"server":…,"method":…,"tool":…`, with `method` for everything but tools) and, where the persona allows the
/// entry, its allow decision (`,"decision":"allow","rule":…,"reason":…`). A class, so that handing it along the hot
/// path is one retain.
final class RecordedEntry {
    let subject: [UInt8]
    let allow: [UInt8]?
    let server: String
    let serverIndex: Int
    /// The server's own name for the entry, and the same as a JSON string (empty where nothing is renamed).
    let tool: String
    let originalName: [UInt8]
    /// The persona's verdict on a catalog entry, made when the catalog was built.
    let known: PolicyDecision?
    /// The plain `server__tool` when the exposed name differs from it (see `ToolCallContext.aliases`).
    let aliases: [String]
    var isVisible: Bool { known?.verdict == .allow }

    init(
        server: String, serverIndex: Int, method: String, subject: RequestSubject, name: String, tool: String,
        originalName: [UInt8] = [], known: PolicyDecision? = nil, aliases: [String] = []
    ) {
        self.server = server
        self.serverIndex = serverIndex
        self.tool = tool
        self.originalName = originalName
        self.known = known
        self.aliases = aliases
        self.subject = AuditFields.encode { fields in
            fields.add("server", server)
            if subject != .tool { fields.add("method", method) }
            fields.add(subject.auditField, name)
        }
        if let known, known.verdict == .allow {
            allow = AuditFields.encode { decision in
                decision.add("decision", "allow")
                decision.add("rule", known.rule)
                decision.add("reason", known.reason)
            }
        } else {
            allow = nil
        }
    }
}

/// A forward queued for a server whose write-ahead decision (audit record `sequence`) is not yet written: the
/// bytes it took in the server's queue, so they can be taken back if the record cannot be written.
struct UncommittedForward {
    var shimID: Int
    var server: Int
    var sequence: Int
    var bytes: Range<Int>
}

/// An aggregated list (`resources/list`, `resources/templates/list`) waiting for every server's pages.
struct FanOut {
    var agentID: [UInt8]
    var method: String
    /// `resources` or `resourceTemplates`.
    var key: String
    var waiting: Set<Int>
    var items: [Int: [JSONObject]] = [:]
}

/// A server's request (sampling, elicitation, roots) forwarded to the agent under the shim's own id.
struct AgentBoundRequest {
    var server: Int
    var childID: [UInt8]
    var method: String
}

/// Monotonic time in nanoseconds.
func monotonicNow() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(min(max(0, seconds), 1e9) * 1e9) }
