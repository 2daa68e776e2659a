import CPersonaShim

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a session needs that is decided before it starts.
public struct ShimConfiguration: Sendable {
    public var persona: Persona
    public var auditPath: String
    /// This binary, used when a server's command is `persona-shim` (bundled example servers, nested shims).
    public var selfExecutable: String
    public var environment: [String: String]
    public var logger: Logger
    /// The longest line accepted from the agent.
    public var lineLimit = 16 * 1024 * 1024
    /// The longest line accepted from a server (a tool result can legitimately be large).
    public var serverLineLimit = 256 * 1024 * 1024
    /// How long servers get after their stdin closes, and again after SIGTERM, before the next step.
    public var shutdownGrace: Double = 2
    /// How long answers still in flight may take once the agent has closed its input.
    public var drainSeconds: Double = 5
    public var version: String

    public init(
        persona: Persona, auditPath: String, selfExecutable: String, environment: [String: String], logger: Logger,
        version: String
    ) {
        self.persona = persona
        self.auditPath = auditPath
        self.selfExecutable = selfExecutable
        self.environment = environment
        self.logger = logger
        self.version = version
    }
}

/// One agent connection: reads MCP from stdin, writes MCP to stdout, and routes to downstream servers.
///
/// A single thread owns all routing state (pending requests, id maps, children, the audit writer) and
/// waits in `poll(2)` for the agent, the servers, timers and signals. Nothing on the hot path takes a lock
/// or hops between threads, and the order of audit records is the order of events.
public final class ShimSession {
    let configuration: ShimConfiguration
    var logger: Logger { configuration.logger }
    var persona: Persona { configuration.persona }
    let audit: AuditLog
    let callTimeChain: PolicyChain
    let scopeChain: PolicyChain
    let promptChain: PolicyChain
    let promptVisibility: PolicyChain
    let resourceChain: PolicyChain
    let resourceVisibility: PolicyChain
    let uris: ResourceURIs

    let agentInputFD: Int32 = 0
    let agentOutputFD: Int32 = 1
    let agentReader: LineReader
    let agentOutput = OutputBuffer()
    var agentClosed = false
    /// When the agent closed its input: answers still in flight get `drainSeconds` more to arrive.
    var agentClosedAt: UInt64?
    var agentGone = false
    var agentInitialized = false
    var agentProtocolVersion = MCPProtocol.latestVersion
    var downgrade = VersionDowngrade(version: MCPProtocol.latestVersion)
    /// The agent's declared client capabilities (sampling, elicitation, roots).
    var agentCapabilities = JSONObject()
    /// What the shim offers servers as their client: the agent's capabilities that the persona allows.
    var serverClientCapabilities = JSONObject()
    /// The agent's `initialize`, answered once every server has answered its own.
    var pendingInitializeID: [UInt8]?
    var sessionStarted = false

    var children: [Downstream] = []
    var pending: [Int: PendingRequest] = [:]
    var nextRequestID = 1
    var callTimeouts: [(deadline: UInt64, id: Int)] = []
    var callTimeoutHead = 0
    var initializeDeadlines: [(deadline: UInt64, server: Int)] = []
    var startupDeadline: UInt64?
    var startupComplete = false
    var deferredAgentLines: [[UInt8]] = []

    var catalog = ToolCatalog()
    var toolsListResult: [UInt8] = Array(#"{"tools":[]}"#.utf8)
    /// Audit fields per catalog entry (by entry index), made on first use; cleared when the catalogs are rebuilt.
    var recordedTools: [RecordedEntry?] = []
    var recordedPrompts: [RecordedEntry?] = []
    var promptCatalog = ToolCatalog()
    var promptsListResult: [UInt8] = Array(#"{"prompts":[]}"#.utf8)
    var fanOuts: [Int: FanOut] = [:]
    var agentBound: [Int: AgentBoundRequest] = [:]
    /// The shim's progress tokens: the agent's original token (raw bytes) and the request it belongs to.
    var progressRoutes: [Int: (agentToken: [UInt8], request: Int)] = [:]
    /// Resource URIs (as the agent sees them) the agent subscribed to.
    var subscriptions: Set<String> = []
    /// The level the agent asked for with `logging/setLevel`.
    var logLevel: String?
    /// List changes waiting to be announced to the agent, coalesced over a short window.
    var pendingListChanges: Set<String> = []
    var listChangeDeadline: UInt64?
    /// Whether the agent could already have seen a tool list (only then is a change worth announcing).
    var catalogPublished = false

    var auditFlushDeadline: UInt64?
    /// Forwards queued for a server whose write-ahead decision is staged but not yet written.
    var uncommitted: [UncommittedForward] = []
    /// When readers that grew for a large message give the memory back, if they stay empty until then.
    var readerTrimDeadline: UInt64?
    var stopping = false
    var stopReason = ""
    var signalPipe: SignalPipe?
    /// The servers' process groups, from spawn until empty (and the guardian that stops them if the shim is killed).
    lazy var processes = ServerGroups(grace: configuration.shutdownGrace) { [logger] in logger.warning($0) }
    var savedFlags: [Int32: Int32] = [:]

    public init(configuration: ShimConfiguration) {
        self.configuration = configuration
        self.agentReader = LineReader(limit: configuration.lineLimit)
        self.audit = AuditLog(
            path: configuration.auditPath, fsync: configuration.persona.audit.fsync, session: AuditLog.newSessionID(),
            persona: configuration.persona.name, user: AuditLog.currentUser())
        let persona = configuration.persona
        self.callTimeChain = persona.callTimeChain
        self.scopeChain = persona.scopeChain
        self.promptChain = persona.requestChain(persona.prompts)
        self.promptVisibility = persona.visibilityChain(persona.prompts)
        self.resourceChain = persona.requestChain(persona.resources)
        self.resourceVisibility = persona.visibilityChain(persona.resources)
        self.uris = ResourceURIs(servers: persona.servers.map(\.name))
        self.children = configuration.persona.servers.enumerated().map {
            Downstream(spec: $1, index: $0, lineLimit: configuration.serverLineLimit)
        }
    }

    /// Serves until the agent closes stdin or a signal asks the shim to stop; then tears every server down.
    /// Returns the process exit code.
    public func run() -> Int32 {
        do {
            signalPipe = try SignalPipe.install()
        } catch {
            logger.error("cannot install signal handlers: \(error)")
            return 70
        }
        for fd in [agentInputFD, agentOutputFD] {
            _ = ps_set_pipe_size(fd, 1 << 20)  // Only pipes take it; a terminal or file just says no.
            let flags = fcntl(fd, F_GETFL)
            if flags >= 0 {
                savedFlags[fd] = flags
                _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            }
        }
        defer {
            StandardErrorSink.shared.drain(seconds: 1)
            for (fd, flags) in savedFlags { _ = fcntl(fd, F_SETFL, flags) }
        }
        while !stopping {
            pollOnce()
            fireTimers()
            flushOutputs()
            processAgentLines()
            if agentClosed {
                let closedAt = agentClosedAt ?? monotonicNow()
                agentClosedAt = closedAt
                if !hasWorkForAgent {
                    stop("the agent closed its input")
                } else if monotonicNow() >= closedAt + nanoseconds(configuration.drainSeconds) {
                    stop("the agent closed its input; calls still in flight were abandoned")
                }
            }
        }
        shutdown()
        return 0
    }

    /// Whether anything is still owed to an agent that has closed its input (answers in flight).
    var hasWorkForAgent: Bool {
        guard !agentGone else { return false }
        let requestsInFlight = pending.values.contains {
            switch $0 {
            case .forward, .fanOutPage: true
            default: false
            }
        }
        return requestsInFlight || pendingInitializeID != nil || !deferredAgentLines.isEmpty || !agentOutput.isEmpty
            || agentReader.hasCompleteLine
    }

    /// How long an outcome record may wait to share a write with the next decision.
    static let auditBatchWindow: UInt64 = 50_000_000

    /// How often readers that grew for a large message are offered a trim; one that read nothing for a whole
    /// period gives the memory back.
    static let readerTrimDelay: UInt64 = 1_000_000_000

    func trimReaders() {
        readerTrimDeadline = nil
        agentReader.trim()
        for child in children { child.stdout.trim() }
    }

    /// Writes the audit records that wait, then settles the forwards they cover: released to their servers when
    /// their decision reached the file, taken back and refused when it did not. `flushChild` calls it before
    /// writing anything, so no request reaches a server before its decision is on file.
    func commitAudit() {
        auditFlushDeadline = nil
        if audit.hasPending {
            do {
                try audit.flush()
            } catch {
                logger.error("\(error)")
            }
        }
        guard !uncommitted.isEmpty else { return audit.forgetDropped() }
        let unwritten = uncommitted.filter { !audit.wasWritten($0.sequence) }
        uncommitted.removeAll(keepingCapacity: uncommitted.capacity <= 4096)
        audit.forgetDropped()
        if !unwritten.isEmpty { withdraw(unwritten) }
    }

    /// Takes forwards whose decision could not be written out of their servers' queues, and refuses them.
    private func withdraw(_ forwards: [UncommittedForward]) {
        for child in children {
            let ranges = forwards.filter { $0.server == child.index }.map(\.bytes)
            if !ranges.isEmpty { child.input.withdraw(ranges) }
        }
        let reason = audit.lastFailure?.reason ?? "the write failed"
        for forward in forwards {
            // A request the agent cancelled meanwhile is owed no answer.
            guard case .forward(let request)? = pending[forward.shimID] else { continue }
            finishRequest(forward.shimID)
            logger.error("refusing \(request.method) \(request.exposedName): its audit record could not be written")
            let sentence =
                "persona-shim refused this request because it could not write the audit record (\(reason)). It was not forwarded. Ask the user to fix the audit file \(audit.path)."
            refuse(request.agentID, request.subject, sentence, code: JSONRPCError.internalError)
        }
    }

    func stop(_ reason: String) {
        guard !stopping else { return }
        stopping = true
        stopReason = reason
        logger.debug("stopping: \(reason)")
    }

    // MARK: The loop

    private var pollDescriptors: [pollfd] = []
    private var pollSources: [Source] = []

    private enum Source { case signals, agentIn, agentOut, stderr, childOut(Int), childErr(Int), childIn(Int) }

    /// Requests queued while servers start, at most; past this the shim stops reading the agent until they drain.
    static let deferredLimit = 10_000

    private static let highWater = 64 * 1024 * 1024

    private func pollOnce() {
        // The arrays are reused across iterations: two allocations fewer per wake-up.
        var fds = pollDescriptors
        var sources = pollSources
        fds.removeAll(keepingCapacity: true)
        sources.removeAll(keepingCapacity: true)
        pollDescriptors = []
        pollSources = []
        defer {
            pollDescriptors = fds
            pollSources = sources
        }
        func watch(_ fd: Int32, _ events: Int32, _ source: Source) {
            fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
            sources.append(source)
        }
        if let signalPipe { watch(signalPipe.readFD, POLLIN, .signals) }
        // Backpressure: stop reading whoever feeds a queue that is full, so memory stays bounded.
        if !agentClosed && !agentInputPaused && !agentReader.hasCompleteLine {
            watch(agentInputFD, POLLIN, .agentIn)
        }
        if !agentOutput.isEmpty && !agentGone { watch(agentOutputFD, POLLOUT, .agentOut) }
        if StandardErrorSink.shared.hasPending { watch(2, POLLOUT, .stderr) }
        for child in children {
            // A reader lent to the agent's output holds a large answer still being written: it reads on after that.
            if child.stdoutFD >= 0 && !agentBacklogged && child.input.count <= Self.highWater && !child.stdout.isLent {
                watch(child.stdoutFD, POLLIN, .childOut(child.index))
            }
            if child.stderrFD >= 0 { watch(child.stderrFD, POLLIN, .childErr(child.index)) }
            if child.stdinFD >= 0 && !child.input.isEmpty { watch(child.stdinFD, POLLOUT, .childIn(child.index)) }
        }
        let timeout = pollTimeout()
        let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if ready < 0 {
            if errno != EINTR { logger.error("poll failed: \(String(cString: strerror(errno)))") }
            return
        }
        guard ready > 0 else { return }
        for (index, descriptor) in fds.enumerated() where descriptor.revents != 0 {
            switch sources[index] {
            case .signals: handleSignals()
            case .agentIn: readAgent()
            case .agentOut: flushAgent()
            case .stderr: StandardErrorSink.shared.flush()
            case .childOut(let child): readChildOutput(children[child])
            case .childErr(let child): readChildErrors(children[child])
            case .childIn(let child): flushChild(children[child])
            }
        }
    }

    private func pollTimeout() -> Int32 {
        var next: UInt64?
        func consider(_ deadline: UInt64) { next = min(next ?? deadline, deadline) }
        if let startupDeadline, !startupComplete { consider(startupDeadline) }
        for entry in initializeDeadlines { consider(entry.deadline) }
        if callTimeoutHead < callTimeouts.count { consider(callTimeouts[callTimeoutHead].deadline) }
        if let agentClosedAt { consider(agentClosedAt + nanoseconds(configuration.drainSeconds)) }
        if let listChangeDeadline { consider(listChangeDeadline) }
        if audit.hasPending {
            let deadline = auditFlushDeadline ?? monotonicNow() + Self.auditBatchWindow
            auditFlushDeadline = deadline
            consider(deadline)
        }
        if agentReader.holdsSpareMemory || children.contains(where: { $0.stdout.holdsSpareMemory }) {
            let deadline = readerTrimDeadline ?? monotonicNow() + Self.readerTrimDelay
            readerTrimDeadline = deadline
            consider(deadline)
        } else {
            readerTrimDeadline = nil
        }
        if let deadline = processes.deadline { consider(deadline) }
        for child in children {
            if let restartAt = child.restartAt { consider(restartAt) }
            if let departure = child.departureDeadline { consider(departure) }
        }
        guard let next else { return -1 }
        let now = monotonicNow()
        if next <= now { return 0 }
        return Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }

    private func handleSignals() {
        guard let signals = signalPipe?.drain() else { return }
        for signal in signals {
            switch signal {
            case SIGCHLD: reapChildren()
            case SIGINT, SIGTERM, SIGHUP: stop("received signal \(signal)")
            default: break
            }
        }
    }

    // MARK: Agent I/O

    private func readAgent() {
        var budget = 16
        while budget > 0 && !agentClosed && !agentInputPaused {
            budget -= 1
            let result: LineReader.FillResult
            do {
                result = try agentReader.fill(from: agentInputFD)
            } catch {
                logger.error("reading from the agent failed: \(error)")
                agentClosed = true
                break
            }
            switch result {
            case .wouldBlock: budget = 0
            case .endOfFile:
                agentClosed = true
                logger.debug("the agent closed its input")
                agentReader.finishInput()
            case .data: if agentReader.lastReadWasShort { budget = 0 }
            }
            processAgentLines()
        }
    }

    /// Whether answers to the agent are piling up (it is not reading): then its requests wait unread.
    var agentBacklogged: Bool { agentOutput.count > Self.highWater }

    /// Whether the agent's requests must wait: its answers pile up, a server is not reading its requests,
    /// or too many wait for the servers to start.
    var agentInputPaused: Bool {
        agentBacklogged || deferredAgentLines.count >= Self.deferredLimit
            || children.contains { $0.input.count > Self.highWater }
    }

    /// Handles buffered requests, but only while the agent keeps up with the answers: a line left in the buffer
    /// costs nothing, an answer waiting in the output queue can cost megabytes.
    func processAgentLines() {
        var handled = false
        // What this read brought is judged first; its decisions then share one audit write, and the forwards go
        // out. A server with a full group of forwards gets them sooner (`forward`), so it works while the shim
        // judges the rest.
        defer { if handled { releaseForwards() } }
        while !agentInputPaused, let event = agentReader.next() {
            handled = true
            switch event {
            case .line(let range):
                handleAgentLine(agentReader.bytes, range)
            case .oversized(let bytes):
                logger.warning(
                    "discarded a message of \(bytes) bytes from the agent (the limit is \(configuration.lineLimit) bytes)"
                )
                sendToAgent(
                    Message.error(
                        id: [UInt8]?.none, code: JSONRPCError.invalidRequest,
                        message:
                            "Message of \(bytes) bytes exceeds persona-shim's limit of \(configuration.lineLimit) bytes and was discarded"
                    ))
            }
        }
    }

    /// How many forwards a server gets at once, or answers the agent gets at once, while more are being handled.
    static let releaseGroup = 16

    /// Writes the staged audit records, then the forwards they cover, to the servers.
    func releaseForwards() {
        commitAudit()
        for child in children where !child.input.isEmpty { flushChild(child) }
    }

    func sendToAgent(_ bytes: [UInt8]) {
        guard !agentGone else { return }
        agentOutput.append(bytes)
    }

    func flushAgent() {
        guard !agentGone, !agentOutput.isEmpty else { return }
        do {
            _ = try agentOutput.flush(to: agentOutputFD)
        } catch {
            agentWentAway(error)
        }
    }

    /// The agent's output closed (EPIPE): nobody is left to answer, so clean up and leave.
    func agentWentAway(_ error: SystemError) {
        logger.debug("the agent's output closed: \(error)")
        agentGone = true
        agentClosed = true
        agentOutput.discardAll()
        stop("the agent went away")
    }

    func flushChild(_ child: Downstream) {
        guard child.stdinFD >= 0, !child.input.isEmpty else { return }
        if !uncommitted.isEmpty { commitAudit() }
        child.forwardsSinceFlush = 0
        do {
            _ = try child.input.flush(to: child.stdinFD)
        } catch {
            logger.warning("[\(child.name)] cannot write to the server: \(error)")
            child.input.discardAll()
            FD.close(child.stdinFD)
            child.stdinFD = -1
        }
    }

    private func flushOutputs() {
        flushAgent()
        for child in children { flushChild(child) }
    }

    // MARK: Child I/O

    /// Reads a server's output; `budget` bounds the reads per wake-up so one server cannot starve the rest.
    func readChildOutput(_ child: Downstream, budget: Int = 16) {
        var budget = budget
        while budget > 0 && child.stdoutFD >= 0 {
            budget -= 1
            let result: LineReader.FillResult
            do {
                result = try child.stdout.fill(from: child.stdoutFD)
            } catch {
                result = .endOfFile
            }
            if case .wouldBlock = result { return }
            if case .endOfFile = result { child.stdout.finishInput() }
            var handled = 0
            while let event = child.stdout.next() {
                handled += 1
                if handled % Self.releaseGroup == 0 { flushAgent() }
                switch event {
                case .line(let range):
                    handleChildLine(child, child.stdout.bytes, range)
                case .oversized(let bytes):
                    logger.warning(
                        "[\(child.name)] discarded a message of \(bytes) bytes (the limit is \(configuration.serverLineLimit) bytes)"
                    )
                }
            }
            if case .endOfFile = result {
                childDisconnected(child)
                return
            }
            if child.stdout.lastReadWasShort && budget < 1 << 20 { return }
        }
    }

    func readChildErrors(_ child: Downstream) {
        var budget = 16
        while budget > 0 && child.stderrFD >= 0 {
            budget -= 1
            let result = (try? child.stderr.fill(from: child.stderrFD)) ?? .endOfFile
            while let event = child.stderr.next() {
                switch event {
                case .line(let range):
                    let text = String(decoding: child.stderr.bytes[range], as: UTF8.self)
                    Logger.writeLine("[\(child.name)] \(text)")
                case .oversized(let bytes):
                    Logger.writeLine("[\(child.name)] (\(bytes) bytes of output on one line, not shown)")
                }
            }
            switch result {
            case .wouldBlock: return
            case .endOfFile:
                FD.close(child.stderrFD)
                child.stderrFD = -1
            case .data: continue
            }
        }
    }
}
