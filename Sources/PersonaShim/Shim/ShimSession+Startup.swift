import CPersonaShim

#if canImport(Glibc)
    import Glibc
#endif

/// Servers coming and going: the startup handshake, their tool and prompt lists, departures and restarts.
extension ShimSession {
    static let maximumPages = 1000

    /// Records the session start and spawns every server; they initialize concurrently.
    func startSession() {
        guard !sessionStarted else { return }
        sessionStarted = true
        do {
            try audit.record(
                "session.start",
                [
                    ("personaDigest", .string(persona.digest)),
                    ("personaFile", persona.sourcePath.map(JSONValue.string) ?? .null),
                    ("servers", .array(children.map { .string($0.name) })),
                    ("pid", .integer(Int(getpid()))), ("version", .string(configuration.version)),
                    ("protocolVersion", .string(agentProtocolVersion)),
                ])
        } catch {
            logger.error("\(error). Requests will be refused until the audit file can be written.")
        }
        // Offer servers only what the agent can do and the persona allows.
        for (capability, allowed) in [
            ("sampling", persona.serverRequests.sampling), ("elicitation", persona.serverRequests.elicitation),
            ("roots", persona.serverRequests.roots),
        ] where allowed {
            if let value = agentCapabilities[capability] { serverClientCapabilities[capability] = value }
        }
        startupDeadline = monotonicNow() + nanoseconds(persona.timeouts.initializeSeconds) + 100_000_000
        for child in children { spawn(child) }
        checkStartupComplete()
    }

    func spawn(_ child: Downstream) {
        var command = child.spec.command
        if command.executable == "persona-shim" { command.executable = configuration.selfExecutable }
        let environment = ChildEnvironment.build(parent: configuration.environment, declared: command.environment)
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard
            let resolved = ExecutableResolver.resolve(
                command.executable, searchPath: searchPath, workingDirectory: command.workingDirectory)
        else {
            childFailed(
                child,
                reason:
                    "could not find the command \"\(command.executable)\" (searched PATH \(searchPath)); check the server's \"command\"",
                restartable: false)
            return
        }
        command.executable = resolved
        do {
            let spawned = try ChildSpawner.spawn(command, environment: environment)
            child.pid = spawned.pid
            processes.started(spawned.pid)
            child.stdinFD = spawned.stdin
            child.stdoutFD = spawned.stdout
            child.stderrFD = spawned.stderr
            // Larger pipes move a big result in fewer wake-ups; failure (an old kernel, a lower limit) is harmless.
            _ = ps_set_pipe_size(spawned.stdout, 1 << 20)
            _ = ps_set_pipe_size(spawned.stdin, 1 << 20)
        } catch {
            childFailed(child, reason: error.description, restartable: error.isTransient)
            return
        }
        child.startedAt = monotonicNow()
        child.phase = .initializing
        try? audit.record(
            "child.start",
            [("server", .string(child.name)), ("pid", .integer(Int(child.pid))), ("command", .string(resolved))])
        let id = nextRequestID
        nextRequestID += 1
        pending[id] = .initialize(server: child.index)
        let params: JSONValue = [
            "protocolVersion": .string(agentProtocolVersion),
            "capabilities": .object(serverClientCapabilities),
            "clientInfo": ["name": "persona-shim", "version": .string(configuration.version)],
        ]
        child.input.append(Message.request(id: id, method: "initialize", params: params))
        initializeDeadlines.append((child.startedAt + nanoseconds(persona.timeouts.initializeSeconds), child.index))
    }

    func childInitialized(_ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard let resultRange = envelope.result, let result = try? JSONValue.parse(raw, range: resultRange) else {
            let message = envelope.error.flatMap { try? JSONValue.parse(raw, range: $0) }?["message"]?.stringValue
            childFailed(child, reason: "refused initialize: \(message ?? "no reason given")", restartable: false)
            return
        }
        let version = result["protocolVersion"]?.stringValue
        guard let version, MCPProtocol.supportedVersions.contains(version) else {
            childFailed(
                child, reason: "answered initialize with unsupported protocol version \(version ?? "none")",
                restartable: false)
            return
        }
        child.protocolVersion = version
        child.serverInfo = result["serverInfo"]
        child.capabilities = result["capabilities"]?.objectValue ?? JSONObject()
        child.input.append(Message.notification(method: "notifications/initialized", params: nil))
        child.phase = .listing
        child.listsPending = 0
        if child.capabilities["tools"] != nil {
            child.listsPending += 1
            requestListPage(child, key: "tools", cursor: nil, page: 0)
        }
        if child.capabilities["prompts"] != nil && !persona.prompts.allow.isEmpty {
            child.listsPending += 1
            requestListPage(child, key: "prompts", cursor: nil, page: 0)
        }
        if let level = logLevel, child.capabilities["logging"] != nil {
            let id = nextRequestID
            nextRequestID += 1
            pending[id] = .internalRequest(server: child.index)
            child.input.append(Message.request(id: id, method: "logging/setLevel", params: ["level": .string(level)]))
        }
        answerInitializeIfReady()
        if child.listsPending == 0 { childReady(child) }
    }

    func requestListPage(_ child: Downstream, key: String, cursor: String?, page: Int) {
        let id = nextRequestID
        nextRequestID += 1
        if page == 0 { child.listGeneration[key, default: 0] += 1 }
        pending[id] = .list(server: child.index, key: key, page: page, generation: child.listGeneration[key] ?? 0)
        let params: JSONValue? = cursor.map { ["cursor": .string($0)] }
        child.input.append(Message.request(id: id, method: "\(key)/list", params: params))
    }

    func childListPage(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, key: String, page: Int
    ) {
        let result = envelope.result.flatMap { try? JSONValue.parse(raw, range: $0) }
        let items = result?[key]?.arrayValue
        if items == nil { logger.warning("[\(child.name)] \(key)/list failed; the server's \(key) are not available") }
        // Pages of one list arrive in order, one request at a time, so one accumulator per list suffices.
        var accumulated = page == 0 ? [] : (key == "tools" ? child.partialList : child.partialPrompts)
        accumulated.append(contentsOf: items?.compactMap(\.objectValue) ?? [])
        if let cursor = result?["nextCursor"]?.stringValue, page + 1 < Self.maximumPages, items != nil {
            if key == "tools" { child.partialList = accumulated } else { child.partialPrompts = accumulated }
            requestListPage(child, key: key, cursor: cursor, page: page + 1)
            return
        }
        if key == "tools" {
            child.tools = accumulated
            child.partialList = []
        } else {
            child.prompts = accumulated
            child.partialPrompts = []
        }
        if child.phase == .listing {
            child.listsPending -= 1
            if child.listsPending <= 0 { childReady(child) }
        } else {
            rebuildCatalog()
        }
    }

    private func childReady(_ child: Downstream) {
        child.phase = .ready
        initializeDeadlines.removeAll { $0.server == child.index }
        let elapsed = Double(monotonicNow() - child.startedAt) / 1e6
        var fields: [(String, JSONValue)] = [
            ("server", .string(child.name)), ("tools", .integer(child.tools.count)),
            ("prompts", .integer(child.prompts.count)), ("protocolVersion", .string(child.protocolVersion ?? "")),
            ("durationMs", .number(formatMilliseconds(elapsed))),
        ]
        if let info = child.serverInfo { fields.append(("serverInfo", info)) }
        try? audit.record("child.ready", fields)
        logger.debug("[\(child.name)] ready with \(child.tools.count) tools")
        if startupComplete { rebuildCatalog() } else { checkStartupComplete() }
    }

    /// A server stopped being usable. `restartable` is false when restarting cannot help (no such command,
    /// refused handshake) or the shim stopped it on purpose.
    func childFailed(_ child: Downstream, reason: String, restartable: Bool) {
        guard child.phase != .failed && child.phase != .gone else { return }
        let wasReady = child.phase == .ready
        child.phase = wasReady ? .gone : .failed
        initializeDeadlines.removeAll { $0.server == child.index }
        logger.error("[\(child.name)] \(reason); its tools are not available")
        try? audit.record("child.failed", [("server", .string(child.name)), ("reason", .string(reason))])
        failPendingRequests(of: child, outcome: "child_exited", message: "The server \(child.name) \(reason)")
        if child.isRunning {
            child.stoppedByShim = true
            processes.signal(child.pid, SIGTERM)
        }
        closePipes(child)
        if restartable && !stopping { scheduleRestart(child, wasReady: wasReady) }
        answerInitializeIfReady()
        if startupComplete { rebuildCatalog() } else { checkStartupComplete() }
    }

    func checkStartupComplete() {
        guard !startupComplete else { return }
        let deadlinePassed = startupDeadline.map { monotonicNow() >= $0 } ?? false
        guard children.allSatisfy(\.isSettled) || deadlinePassed else { return }
        startupComplete = true
        answerInitializeIfReady()
        rebuildCatalog()
        replayDeferredAgentLines()
    }

    /// Recomputes what the agent sees; tells it (once, coalesced) when that changed.
    func rebuildCatalog() {
        let ready = children.filter { $0.phase == .ready }
        catalog = ToolCatalog(servers: ready.map { ($0.name, $0.tools.filter(Self.isCallable)) }, scope: scopeChain)
        recordedTools = []
        recordedPrompts = []
        let tools = JSONValue.array(
            catalog.visible.map { entry in
                var definition = entry.definition
                definition["execution"] = nil  // Tasks are not mapped yet: tools are called the plain way.
                return .object(downgrade.definition(definition))
            })
        promptCatalog = ToolCatalog(servers: ready.map { ($0.name, $0.prompts) }, scope: promptVisibility)
        let prompts = JSONValue.array(promptCatalog.visible.map { .object(downgrade.definition($0.definition)) })
        let newTools = JSONWriter.encode(.object(JSONObject([("tools", tools)])))
        let newPrompts = JSONWriter.encode(.object(JSONObject([("prompts", prompts)])))
        if newTools != toolsListResult { announceListChange("tools") }
        if newPrompts != promptsListResult { announceListChange("prompts") }
        toolsListResult = newTools
        promptsListResult = newPrompts
        catalogPublished = startupComplete
    }

    /// Task-only tools cannot be called the plain way, and the shim does not map tasks yet: they are left out.
    static func isCallable(_ tool: JSONObject) -> Bool {
        tool["execution"]?["taskSupport"]?.stringValue != "required"
    }

    // MARK: Departures

    func failPendingRequests(of child: Downstream, outcome: String, message: String) {
        for (id, request) in pending where request.server == child.index {
            switch request {
            case .forward(let forwarded):
                finishRequest(id)
                recordOutcome(forwarded, outcome: outcome)
                sendToAgent(
                    Message.error(
                        id: forwarded.agentID, code: JSONRPCError.requestFailed,
                        message: "\(message) before answering; the request may or may not have taken effect"))
            case .fanOutPage(let fanOutID, let server, _):
                pending[id] = nil
                fanOuts[fanOutID]?.waiting.remove(server)
                completeFanOutIfDone(fanOutID)
            default:
                pending[id] = nil
            }
        }
        for (id, request) in agentBound where request.server == child.index {
            agentBound[id] = nil
        }
        if child.phase == .listing || child.phase == .initializing { child.listsPending = 0 }
    }

    func closePipes(_ child: Downstream) {
        for fd in [child.stdinFD, child.stdoutFD] where fd >= 0 { FD.close(fd) }
        child.stdinFD = -1
        child.stdoutFD = -1
        child.input.discardAll()
    }

    /// The server's output ended: it can no longer answer. Output closes as the process exits, a moment before
    /// its status can be collected, so the departure is reported when SIGCHLD arrives (or after a second).
    func childDisconnected(_ child: Downstream) {
        if child.stdoutFD >= 0 {
            FD.close(child.stdoutFD)
            child.stdoutFD = -1
        }
        if child.isRunning, let status = Reaper.poll(child.pid) { recordExit(child, status) }
        if child.isRunning {
            child.departureDeadline = monotonicNow() + 1_000_000_000
        } else {
            childDeparted(child)
        }
    }

    /// Reports a server that went away, with how it ended when that is known.
    func childDeparted(_ child: Downstream) {
        child.departureDeadline = nil
        let description = child.exitStatus.map { "\($0)" } ?? "closed its output"
        if child.phase == .ready || child.phase == .listing || child.phase == .initializing {
            childFailed(child, reason: description, restartable: !child.stoppedByShim)
        } else {
            closePipes(child)
        }
    }

    func reapChildren() {
        for child in children where child.isRunning {
            guard let status = Reaper.poll(child.pid) else { continue }
            recordExit(child, status)
            // Read what it wrote before it exited: its last answers count.
            if child.stdoutFD >= 0 { readChildOutput(child, budget: .max) }
            childDeparted(child)
        }
        processes.reapOrphans(known: children.filter(\.isRunning).map(\.pid))
    }

    func recordExit(_ child: Downstream, _ status: ExitStatus) {
        processes.leaderReaped(child.pid)
        child.exitStatus = status
        guard !child.exitRecorded else { return }
        child.exitRecorded = true
        var fields: [(String, JSONValue)] = [("server", .string(child.name)), ("status", .string("\(status)"))]
        switch status {
        case .exited(let code): fields.append(("exitCode", .integer(Int(code))))
        case .signaled(let signal): fields.append(("signal", .integer(Int(signal))))
        }
        if stopping { fields.append(("reason", "shutdown")) }
        try? audit.record("child.exit", fields)
    }

    // MARK: Restarts

    /// Restarts a crashed server with backoff, within the bounds of its `RestartPolicy`.
    private func scheduleRestart(_ child: Downstream, wasReady: Bool) {
        let now = monotonicNow()
        switch child.restartPolicy.decide(now: now, wasReady: wasReady) {
        case .giveUp(let why):
            logger.error("[\(child.name)] \(why); not restarting it")
            try? audit.record(
                "child.restart",
                [
                    ("server", .string(child.name)), ("decision", "give-up"),
                    ("restarts", .integer(child.restartPolicy.attempts)),
                ])
        case .restart(let delay):
            child.restartAt = now + nanoseconds(delay)
            logger.info("[\(child.name)] restarting in \(formatSeconds(delay)) s")
        }
    }

    private func restart(_ child: Downstream) {
        child.restartAt = nil
        if child.isRunning { processes.signal(child.pid, SIGKILL) }
        if child.pid > 0 && child.exitStatus == nil { recordExit(child, Reaper.wait(child.pid)) }
        if child.stderrFD >= 0 {
            FD.close(child.stderrFD)
            child.stderrFD = -1
        }
        child.restartPolicy.attempted(now: monotonicNow())
        try? audit.record(
            "child.restart", [("server", .string(child.name)), ("attempt", .integer(child.restartPolicy.attempts))])
        child.resetForRestart()
        spawn(child)
    }

    // MARK: Timers

    func fireTimers() {
        let now = monotonicNow()
        if !startupComplete, let startupDeadline, now >= startupDeadline { checkStartupComplete() }
        if pendingInitializeID != nil { answerInitializeIfReady() }
        for entry in initializeDeadlines where entry.deadline <= now {
            let child = children[entry.server]
            childFailed(
                child,
                reason:
                    "did not finish initializing within \(formatSeconds(persona.timeouts.initializeSeconds)) seconds",
                restartable: false)
        }
        for child in children { if let restartAt = child.restartAt, restartAt <= now, !stopping { restart(child) } }
        for child in children { if let deadline = child.departureDeadline, deadline <= now { childDeparted(child) } }
        if let listChangeDeadline, listChangeDeadline <= now { flushListChanges() }
        if let auditFlushDeadline, auditFlushDeadline <= now { commitAudit() }
        if let readerTrimDeadline, readerTrimDeadline <= now { trimReaders() }
        if let deadline = processes.deadline, deadline <= now { processes.tick(now: now) }
        while callTimeoutHead < callTimeouts.count {
            let (deadline, id) = callTimeouts[callTimeoutHead]
            guard case .forward(let request)? = pending[id] else {
                callTimeoutHead += 1
                continue
            }
            guard deadline <= now else { break }
            callTimeoutHead += 1
            finishRequest(id)
            recordOutcome(request, outcome: "timeout")
            sendToAgent(
                Message.error(
                    id: request.agentID, code: JSONRPCError.requestTimeout,
                    message:
                        "The server \(children[request.server].name) did not answer \(request.exposedName) within \(formatSeconds(persona.timeouts.callSeconds)) seconds; the request was cancelled"
                ))
            children[request.server].input.append(
                Message.notification(
                    method: "notifications/cancelled",
                    params: ["requestId": .integer(id), "reason": "persona-shim: request timed out"]))
        }
        if callTimeoutHead > 1024 && callTimeoutHead * 2 > callTimeouts.count {
            callTimeouts.removeFirst(callTimeoutHead)
            callTimeoutHead = 0
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
