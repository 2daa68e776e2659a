import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Messages from downstream servers, their startup handshake, and their departures.
extension ShimSession {
    func handleChildLine(_ child: Downstream, _ raw: UnsafeRawBufferPointer, _ range: Range<Int>) {
        let envelope: MessageEnvelope
        do {
            envelope = try MessageEnvelope.scan(raw, range: range)
        } catch {
            let preview = String(decoding: raw[range.prefix(80)], as: UTF8.self)
            logger.warning(
                "[\(child.name)] dropped a line that is not a JSON-RPC message (\(error.message)): \(preview)")
            return
        }
        switch envelope.kind {
        case .response: handleChildResponse(child, raw, envelope, range)
        case .request: handleChildRequest(child, raw, envelope)
        case .notification: handleChildNotification(child, raw, envelope, range)
        }
    }

    private func handleChildResponse(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        guard let idRange = envelope.id, let id = Int(String(decoding: raw[idRange], as: UTF8.self)),
            let request = pending[id], request.server == child.index
        else {
            // Late (cancelled, timed out) or forged: no one is waiting for it.
            logger.debug("[\(child.name)] dropped a response nobody is waiting for")
            return
        }
        pending[id] = nil
        switch request {
        case .initialize:
            childInitialized(child, raw, envelope)
        case .listTools(_, let page):
            childToolsPage(child, raw, envelope, page: page)
        case .call(let call):
            var outcome = "ok"
            var extra: [(String, JSONValue)] = []
            if let error = envelope.error {
                outcome = "protocol_error"
                if let code = MessageEnvelope.members(raw, object: error, named: ["code"])[0] {
                    extra.append(("errorCode", .number(String(decoding: raw[code], as: UTF8.self))))
                }
            } else if envelope.resultIsError {
                outcome = "tool_error"
            }
            recordOutcome(call, outcome: outcome, extra: extra)
            agentOutput.appendLine(raw, range: range, replacing: [(idRange, call.agentID)])
        }
    }

    private func handleChildRequest(_ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        let id = raw[envelope.id!]
        let method = envelope.method!
        if method == "ping" {
            child.input.append(Message.response(id: id, result: [:]))
            return
        }
        logger.debug("[\(child.name)] refused server request \(method)")
        child.input.append(
            Message.error(
                id: id, code: JSONRPCError.methodNotFound,
                message: "persona-shim does not forward \(method) to the agent in this version"))
    }

    private func handleChildNotification(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        switch envelope.method! {
        case "notifications/progress", "notifications/message":
            guard agentInitialized else { return }
            agentOutput.appendLine(raw, range: range)
        case "notifications/tools/list_changed":
            if child.phase == .ready { requestToolsPage(child, cursor: nil, page: 0) }
        default:
            logger.debug("[\(child.name)] ignored notification \(envelope.method!)")
        }
    }

    // MARK: Startup handshake

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
                ])
        } catch {
            logger.error("\(error). Tool calls will be refused until the audit file can be written.")
        }
        let now = monotonicNow()
        startupDeadline = now + nanoseconds(persona.timeouts.initializeSeconds) + 100_000_000
        for child in children { spawn(child) }
        checkStartupComplete()
    }

    private func spawn(_ child: Downstream) {
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
                    "could not find the command \"\(command.executable)\" (searched PATH \(searchPath)); check the server's \"command\""
            )
            return
        }
        command.executable = resolved
        do {
            let spawned = try ChildSpawner.spawn(command, environment: environment)
            child.pid = spawned.pid
            child.stdinFD = spawned.stdin
            child.stdoutFD = spawned.stdout
            child.stderrFD = spawned.stderr
        } catch {
            childFailed(child, reason: error.description)
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
            "protocolVersion": .string(MCPProtocol.latestVersion),
            "capabilities": [:],
            "clientInfo": ["name": "persona-shim", "version": .string(configuration.version)],
        ]
        child.input.append(Message.request(id: id, method: "initialize", params: params))
        initializeDeadlines.append((child.startedAt + nanoseconds(persona.timeouts.initializeSeconds), child.index))
    }

    private func childInitialized(_ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard let resultRange = envelope.result, let result = try? JSONValue.parse(raw, range: resultRange) else {
            let message = envelope.error.flatMap { try? JSONValue.parse(raw, range: $0) }?["message"]?.stringValue
            childFailed(child, reason: "refused initialize: \(message ?? "no reason given")")
            return
        }
        let version = result["protocolVersion"]?.stringValue
        guard let version, MCPProtocol.supportedVersions.contains(version) else {
            childFailed(child, reason: "answered initialize with unsupported protocol version \(version ?? "none")")
            return
        }
        child.protocolVersion = version
        child.serverInfo = result["serverInfo"]
        child.input.append(Message.notification(method: "notifications/initialized", params: nil))
        if result["capabilities"]?["tools"] != nil {
            child.phase = .listing
            requestToolsPage(child, cursor: nil, page: 0)
        } else {
            childReady(child)
        }
    }

    func requestToolsPage(_ child: Downstream, cursor: String?, page: Int) {
        if page == 0 { child.partialTools = [] }
        let id = nextRequestID
        nextRequestID += 1
        pending[id] = .listTools(server: child.index, page: page)
        let params: JSONValue? = cursor.map { ["cursor": .string($0)] }
        child.input.append(Message.request(id: id, method: "tools/list", params: params))
    }

    private static let maximumToolPages = 1000

    private func childToolsPage(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, page: Int
    ) {
        guard let resultRange = envelope.result, let result = try? JSONValue.parse(raw, range: resultRange),
            let tools = result["tools"]?.arrayValue
        else {
            logger.warning("[\(child.name)] tools/list failed; the server's tools are not available")
            if child.phase == .listing { childReady(child) }
            return
        }
        child.partialTools.append(contentsOf: tools.compactMap(\.objectValue))
        if let cursor = result["nextCursor"]?.stringValue, page + 1 < Self.maximumToolPages {
            requestToolsPage(child, cursor: cursor, page: page + 1)
            return
        }
        child.tools = child.partialTools
        child.partialTools = []
        if child.phase == .listing {
            childReady(child)
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
            ("protocolVersion", .string(child.protocolVersion ?? "")),
            ("durationMs", .number(formatMilliseconds(elapsed))),
        ]
        if let info = child.serverInfo { fields.append(("serverInfo", info)) }
        try? audit.record("child.ready", fields)
        logger.debug("[\(child.name)] ready with \(child.tools.count) tools")
        if startupComplete { rebuildCatalog() } else { checkStartupComplete() }
    }

    func childFailed(_ child: Downstream, reason: String) {
        guard child.phase != .failed && child.phase != .gone else { return }
        let wasReady = child.phase == .ready
        child.phase = wasReady ? .gone : .failed
        initializeDeadlines.removeAll { $0.server == child.index }
        logger.error("[\(child.name)] \(reason); its tools are not available")
        try? audit.record("child.failed", [("server", .string(child.name)), ("reason", .string(reason))])
        failPendingRequests(of: child, outcome: "child_exited", message: "The server \(child.name) \(reason)")
        if child.isRunning { ProcessGroup.signal(child.pid, SIGTERM) }
        closePipes(child)
        if startupComplete { rebuildCatalog() } else { checkStartupComplete() }
    }

    func checkStartupComplete() {
        guard !startupComplete else { return }
        let deadlinePassed = startupDeadline.map { monotonicNow() >= $0 } ?? false
        guard children.allSatisfy(\.isSettled) || deadlinePassed else { return }
        startupComplete = true
        rebuildCatalog()
        replayDeferredAgentLines()
    }

    /// Recomputes what the agent sees; tells it when that changed.
    func rebuildCatalog() {
        let ready = children.filter { $0.phase == .ready }.map { (name: $0.name, tools: $0.tools) }
        catalog = ToolCatalog(servers: ready, scope: scopeChain)
        let visible = JSONValue.array(catalog.visible.map { .object($0.definition) })
        var result = Array(#"{"tools":"#.utf8)
        JSONWriter.append(visible, to: &result)
        result.append(UInt8(ascii: "}"))
        let changed = result != toolsListResult
        toolsListResult = result
        if changed && catalogPublished && agentInitialized {
            sendToAgent(Message.notification(method: "notifications/tools/list_changed", params: nil))
        }
        catalogPublished = startupComplete
    }

    // MARK: Departures

    func failPendingRequests(of child: Downstream, outcome: String, message: String) {
        for (id, request) in pending where request.server == child.index {
            pending[id] = nil
            if case .call(let call) = request {
                recordOutcome(call, outcome: outcome, extra: [])
                sendToAgent(
                    Message.error(
                        id: call.agentID, code: JSONRPCError.requestFailed,
                        message: "\(message) before answering; the call may or may not have taken effect"))
            }
        }
    }

    func closePipes(_ child: Downstream) {
        for fd in [child.stdinFD, child.stdoutFD] where fd >= 0 { FD.close(fd) }
        child.stdinFD = -1
        child.stdoutFD = -1
        child.input.discardAll()
    }

    /// The server's output ended: whatever it does now, it can no longer answer.
    func childDisconnected(_ child: Downstream, reason: String) {
        // Output closes as the process exits, a moment before its status can be collected; wait briefly
        // so the audit and the agent learn how it ended.
        for _ in 0..<50 where child.isRunning {
            if let status = Reaper.poll(child.pid) {
                recordExit(child, status)
            } else {
                usleep(1_000)
            }
        }
        let description = child.exitStatus.map { "\($0)" } ?? reason
        if child.phase == .ready || child.phase == .listing || child.phase == .initializing {
            childFailed(child, reason: description)
        } else {
            closePipes(child)
        }
    }

    func reapChildren() {
        for child in children where child.isRunning {
            guard let status = Reaper.poll(child.pid) else { continue }
            // Read what it wrote before it exited: its last answers count.
            if child.stdoutFD >= 0 { readChildOutput(child) }
            recordExit(child, status)
            if child.stdoutFD >= 0 { childDisconnected(child, reason: "\(status)") }
        }
    }

    func recordExit(_ child: Downstream, _ status: ExitStatus) {
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

    // MARK: Timers

    func fireTimers() {
        let now = monotonicNow()
        if !startupComplete, let startupDeadline, now >= startupDeadline { checkStartupComplete() }
        for entry in initializeDeadlines where entry.deadline <= now {
            let child = children[entry.server]
            childFailed(
                child,
                reason:
                    "did not finish initializing within \(formatSeconds(persona.timeouts.initializeSeconds)) seconds")
        }
        while callTimeoutHead < callTimeouts.count {
            let (deadline, id) = callTimeouts[callTimeoutHead]
            guard case .call(let call)? = pending[id] else {
                callTimeoutHead += 1
                continue
            }
            guard deadline <= now else { break }
            callTimeoutHead += 1
            pending[id] = nil
            recordOutcome(call, outcome: "timeout", extra: [])
            sendToAgent(
                Message.error(
                    id: call.agentID, code: JSONRPCError.requestTimeout,
                    message:
                        "The server \(children[call.server].name) did not answer \(call.exposedName) within \(formatSeconds(persona.timeouts.callSeconds)) seconds; the request was cancelled"
                ))
            children[call.server].input.append(
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
