import Platform

/// One agent connection's I/O shell: it alone touches descriptors, `poll(2)`, signals, processes and the clock,
/// and drives the protocol core (`SessionCore`) with what happens: it reads the agent's and the servers' lines
/// and hands them over, writes what the core queued, starts and takes down server processes when the core asks,
/// and wakes it when a deadline is due.
///
/// A single thread does all of it: nothing on the hot path takes a lock or hops between threads, and the order
/// of audit records is the order of events.
public final class ShimSession {
    let configuration: ShimConfiguration
    var logger: Logger { configuration.logger }
    let core: SessionCore
    let launcher: ServerLauncher

    let agentInputFD: Int32 = 0
    let agentOutputFD: Int32 = 1
    let agentReader: LineReader
    var agentClosed = false
    /// When the agent closed its input: answers still in flight get `drainSeconds` more to arrive.
    var agentClosedAt: UInt64?

    /// The running process of each server, by server index.
    var processes: [ServerProcess?]
    /// Old processes of restarted servers, still being taken down.
    var retiring: [ServerProcess] = []
    /// Every server's process group, and the guardian that stops them if the shim is killed.
    lazy var groups = ServerGroups(grace: configuration.shutdownGrace) { [logger] in logger.warning($0) }
    /// When readers that grew for a large message give the memory back, if they stay empty until then.
    var readerTrimDeadline: UInt64?
    var stopping = false
    var stopReason = ""
    var signalPipe: SignalPipe?
    let operatorWatch = OperatorWatch()
    var savedFlags: [Int32: Int32] = [:]

    /// The approval command and terminal approvals; made at the first question put out of band.
    var outOfBand: OutOfBandApprovals?

    var pollDescriptors: [pollfd] = []
    var pollSources: [PollSource] = []

    enum PollSource {
        case signals, killSwitch, personaFiles, agentIn, agentOut, stderr, serverOut(Int), serverErr(Int), serverIn(Int)
        case approval(Int32)
    }

    public init(configuration: ShimConfiguration) {
        self.configuration = configuration
        self.agentReader = LineReader(limit: configuration.lineLimit)
        let audit = AuditLog(
            path: configuration.auditPath, fsync: configuration.persona.audit.fsync, session: AuditLog.newSessionID(),
            persona: configuration.persona.name, user: AuditLog.currentUser())
        self.core = SessionCore(configuration: configuration, audit: audit)
        self.launcher = ServerLauncher(
            selfExecutable: configuration.selfExecutable, environment: configuration.environment,
            lineLimit: configuration.serverLineLimit)
        self.processes = Array(repeating: nil, count: configuration.persona.servers.count)
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
            OS.setPipeCapacity(fd, bytes: 1 << 20)  // Only pipes take it; a terminal or file just says no.
            let flags = fcntl(fd, F_GETFL)
            if flags >= 0 {
                savedFlags[fd] = flags
                _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            }
        }
        startOperatorWatch()
        defer {
            StandardErrorSink.shared.drain(seconds: 1)
            for (fd, flags) in savedFlags { _ = fcntl(fd, F_SETFL, flags) }
        }
        while !stopping {
            pollOnce()
            core.now = monotonicNow()
            core.fireTimers()
            fireShellTimers()
            performActions()
            drainBacklogs()
            flushOutputs()
            processAgentLines()
            if agentClosed {
                let closedAt = agentClosedAt ?? core.now
                agentClosedAt = closedAt
                if !(core.owesAgent || agentReader.hasCompleteLine) {
                    stop("the agent closed its input")
                } else if core.now >= closedAt + nanoseconds(configuration.drainSeconds) {
                    stop("the agent closed its input; calls still in flight were abandoned")
                }
            }
        }
        shutdown()
        return 0
    }

    func stop(_ reason: String) {
        guard !stopping else { return }
        stopping = true
        stopReason = reason
        logger.debug("stopping: \(reason)")
    }

    /// How often readers that grew for a large message are offered a trim; one that read nothing for a whole
    /// period gives the memory back.
    static let readerTrimDelay: UInt64 = 1_000_000_000

    private func fireShellTimers() {
        let now = core.now
        if let readerTrimDeadline, readerTrimDeadline <= now {
            self.readerTrimDeadline = nil
            agentReader.trim()
            for process in processes { process?.stdout.trim() }
        }
        for process in processes.compactMap({ $0 }) {
            if let departure = process.departureDeadline, departure <= now { serverDeparted(process) }
        }
        advanceRetiring()
        if let deadline = groups.deadline, deadline <= now { groups.tick(now: now) }
        fireOperatorTimers()
        if let deadline = approvalDeadline, deadline <= now { tickApprovals(now: now) }
    }

    // MARK: The loop

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
        func watch(_ fd: Int32, _ events: Int32, _ source: PollSource) {
            fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
            sources.append(source)
        }
        if let signalPipe { watch(signalPipe.readFD, POLLIN, .signals) }
        watchOperator(watch)
        // Backpressure: stop reading whoever feeds a queue that is full, so memory stays bounded.
        if !agentClosed && !core.agentInputPaused && !agentReader.hasCompleteLine {
            watch(agentInputFD, POLLIN, .agentIn)
        }
        if !core.agentOutput.isEmpty && !core.agentGone { watch(agentOutputFD, POLLOUT, .agentOut) }
        if StandardErrorSink.shared.hasPending { watch(2, POLLOUT, .stderr) }
        for case let process? in processes {
            let input = core.servers[process.server].input
            // A reader lent to the agent's output holds a large answer still being written: it reads on after that.
            if process.stdoutFD >= 0 && !core.agentBacklogged && input.count <= SessionCore.highWater
                && !process.stdout.isLent
            {
                watch(process.stdoutFD, POLLIN, .serverOut(process.server))
            }
            if process.stderrFD >= 0 { watch(process.stderrFD, POLLIN, .serverErr(process.server)) }
            if process.stdinFD >= 0 && !input.isEmpty { watch(process.stdinFD, POLLOUT, .serverIn(process.server)) }
        }
        for request in approvalPollRequests { watch(request.fd, Int32(request.events), .approval(request.fd)) }
        let timeout = pollTimeout()
        let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if ready < 0 {
            if errno != EINTR { logger.error("poll failed: \(String(cString: strerror(errno)))") }
            return
        }
        guard ready > 0 else { return }
        core.now = monotonicNow()
        for (index, descriptor) in fds.enumerated() where descriptor.revents != 0 {
            switch sources[index] {
            case .signals: handleSignals()
            case .killSwitch: checkKillSwitch()
            case .personaFiles: personaFilesChanged()
            case .agentIn:
                if operatorWatch.killFD >= 0 { checkKillSwitch() }
                readAgent()
            case .agentOut: flushAgent()
            case .stderr: StandardErrorSink.shared.flush()
            case .serverOut(let server): if let process = processes[server] { readServerOutput(process) }
            case .serverErr(let server): if let process = processes[server] { readServerErrors(process) }
            case .serverIn(let server): flushServer(server)
            case .approval(let fd): handleApproval(fd)
            }
        }
    }

    private func pollTimeout() -> Int32 {
        let now = monotonicNow()
        core.now = now
        var next = core.nextDeadline()
        func consider(_ deadline: UInt64) { next = min(next ?? deadline, deadline) }
        if let agentClosedAt { consider(agentClosedAt + nanoseconds(configuration.drainSeconds)) }
        if agentReader.holdsSpareMemory || processes.contains(where: { $0?.stdout.holdsSpareMemory ?? false }) {
            let deadline = readerTrimDeadline ?? now + Self.readerTrimDelay
            readerTrimDeadline = deadline
            consider(deadline)
        } else {
            readerTrimDeadline = nil
        }
        for case let process? in processes { if let departure = process.departureDeadline { consider(departure) } }
        if !retiring.isEmpty { consider(now + 50_000_000) }
        if let deadline = groups.deadline { consider(deadline) }
        if let deadline = operatorDeadline { consider(deadline) }
        if let deadline = approvalDeadline { consider(deadline) }
        if processes.contains(where: { $0?.hasBacklog ?? false }) { consider(now) }
        guard let next else { return -1 }
        if next <= now { return 0 }
        return Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }

    private func handleSignals() {
        guard let signals = signalPipe?.drain() else { return }
        for signal in signals {
            switch signal {
            case SIGCHLD:
                reapApprovalCommands()
                reapServers()
            case SIGINT, SIGTERM, SIGHUP: stop("received signal \(signal)")
            default: break
            }
        }
    }
}
