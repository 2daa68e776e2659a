/// Servers coming and going, as the core sees it: the session start, each server's handshake and listings,
/// failures, exits and restarts. The shell starts and stops processes when asked (`SessionAction`) and reports
/// back with `serverStarted`, `serverFailedToStart`, `serverExited` and `serverDisconnected`.
extension SessionCore {
    static let maximumPages = 1000

    /// Records the session start and asks for every server; they initialize concurrently.
    func startSession() {
        guard !sessionStarted else { return }
        sessionStarted = true
        // Informational: if it cannot be written, every decision after it cannot be either, and those refuse.
        do {
            try audit.record(
                .sessionStart,
                [
                    ("personaDigest", .string(persona.digest)),
                    ("personaFile", persona.sourcePath.map(JSONValue.string) ?? .null),
                    ("servers", .array(servers.map { .string($0.name) })),
                    ("pid", .integer(configuration.processID)), ("version", .string(configuration.version)),
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
        startupDeadline = now + nanoseconds(persona.timeouts.initializeSeconds) + 100_000_000
        for server in servers { perform(.start(server: server.index)) }
        checkStartupComplete()
    }

    /// The shell started server `index`'s process (`pid`, running `command`): begin its handshake.
    func serverStarted(_ index: Int, pid: Int32, command: String) {
        let server = servers[index]
        server.isRunning = true
        server.inputOpen = true
        server.startedAt = now
        server.phase = .initializing
        recordLifecycle(
            .serverStart,
            [("server", .string(server.name)), ("pid", .integer(Int(pid))), ("command", .string(command))])
        server.era = .legacy
        server.handshakeRefusal = nil
        initializeDeadlines.append((now + nanoseconds(persona.timeouts.initializeSeconds), index))
        // See SessionCore+ServerEra.swift for why a legacy agent's servers get initialize first.
        if agentEra == .modern { probe(server) } else { sendInitialize(server) }
    }

    /// The handshake of a legacy server (one that did not answer the probe as a modern one).
    func sendInitialize(_ server: Server) {
        server.probe = nil
        let id = routes.allocateID()
        routes.pending[id] = .initialize(server: server.index)
        let params: JSONValue = [
            "protocolVersion": .string(handshakeVersion),
            "capabilities": .object(serverClientCapabilities),
            "clientInfo": ["name": "persona-shim", "version": .string(configuration.version)],
        ]
        server.input.append(Message.request(id: id, method: "initialize", params: params))
    }

    /// The shell could not start server `index`. Restarting cannot help a missing command or a bad executable; it
    /// can help when the machine was short of processes, memory or descriptors (`transient`).
    func serverFailedToStart(_ index: Int, reason: String, transient: Bool = false) {
        serverFailed(servers[index], reason: reason, restartable: transient)
    }

    func serverInitialized(_ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard let resultRange = envelope.result, let result = try? JSONValue.parse(raw, range: resultRange) else {
            let message = envelope.error.flatMap { try? JSONValue.parse(raw, range: $0) }?["message"]?.stringValue
            let reason = "refused initialize: \(message ?? "no reason given")"
            // A modern-only server refuses the handshake: ask it once what it speaks.
            guard server.handshakeRefusal != nil || agentEra == .modern else {
                server.handshakeRefusal = reason
                return probe(server)
            }
            serverFailed(server, reason: reason, restartable: false)
            return
        }
        let version = result["protocolVersion"]?.stringValue
        guard let version, MCPProtocol.supportedVersions.contains(version) else {
            serverFailed(
                server, reason: "answered initialize with unsupported protocol version \(version ?? "none")",
                restartable: false)
            return
        }
        // The handshake settled the era: a probe still waiting (it timed out) is answered by no one now.
        for (id, request) in routes.pending {
            if case .discover(server.index) = request { routes.pending[id] = nil }
        }
        server.protocolVersion = version
        server.serverInfo = result["serverInfo"]
        server.capabilities = result["capabilities"]?.objectValue ?? JSONObject()
        server.input.append(Message.notification(method: "notifications/initialized", params: nil))
        serverConnected(server)
    }

    /// The server's version and capabilities are known (from its handshake or its discovery): fetch its lists.
    func serverConnected(_ server: Server) {
        server.phase = .listing
        server.listsPending = 0
        if server.capabilities["tools"] != nil {
            server.listsPending += 1
            requestListPage(server, key: "tools", cursor: nil, page: 0)
        }
        if server.capabilities["prompts"] != nil && !persona.prompts.allow.isEmpty {
            server.listsPending += 1
            requestListPage(server, key: "prompts", cursor: nil, page: 0)
        }
        if let level = logLevel, server.capabilities["logging"] != nil, server.era == .legacy {
            sendSetLevel(level, to: server)
        }
        answerInitializeIfReady()
        if server.listsPending == 0 { serverReady(server) }
    }

    /// Fetches `key` again after the server said it changed; while a listing is in flight, the change is noted and
    /// fetched once that listing ends.
    func relist(_ server: Server, key: String) {
        guard server.phase == .ready else { return }
        guard !server.listing.contains(key) else {
            server.relistWanted.insert(key)
            return
        }
        requestListPage(server, key: key, cursor: nil, page: 0)
    }

    func requestListPage(_ server: Server, key: String, cursor: String?, page: Int) {
        let id = routes.allocateID()
        server.listing.insert(key)
        if page == 0 { server.listGeneration[key, default: 0] += 1 }
        routes.pending[id] = .list(
            server: server.index, key: key, page: page, generation: server.listGeneration[key] ?? 0)
        server.input.append(request(to: server, id: id, method: "\(key)/list", cursor: cursor))
    }

    func serverListPage(
        _ server: Server, _ raw: UnsafeRawBufferPointer?, _ envelope: MessageEnvelope, key: String, page: Int
    ) {
        let result = raw.flatMap { raw in envelope.result.flatMap { try? JSONValue.parse(raw, range: $0) } }
        let items = result?[key]?.arrayValue
        if items == nil {
            logger.warning("[\(server.name)] \(key)/list failed; the server's \(key) are not available")
        }
        // Pages of one list arrive in order, one request at a time, so one accumulator per list suffices.
        var accumulated = page == 0 ? [] : (key == "tools" ? server.partialList : server.partialPrompts)
        accumulated.append(contentsOf: items?.compactMap(\.objectValue) ?? [])
        if let cursor = result?["nextCursor"]?.stringValue, page + 1 < Self.maximumPages, items != nil {
            if key == "tools" { server.partialList = accumulated } else { server.partialPrompts = accumulated }
            requestListPage(server, key: key, cursor: cursor, page: page + 1)
            return
        }
        if key == "tools" {
            server.tools = accumulated
            server.partialList = []
        } else {
            server.prompts = accumulated
            server.partialPrompts = []
        }
        server.listing.remove(key)
        if server.relistWanted.remove(key) != nil { requestListPage(server, key: key, cursor: nil, page: 0) }
        if server.phase == .listing {
            server.listsPending -= 1
            if server.listsPending <= 0 { serverReady(server) }
        } else {
            rebuildCatalog()
        }
    }

    private func serverReady(_ server: Server) {
        server.phase = .ready
        initializeDeadlines.removeAll { $0.server == server.index }
        var fields: [(String, JSONValue)] = [
            ("server", .string(server.name)), ("tools", .integer(server.tools.count)),
            ("prompts", .integer(server.prompts.count)), ("protocolVersion", .string(server.protocolVersion ?? "")),
            ("durationMs", .number(formatMilliseconds(Double(now - server.startedAt) / 1e6))),
        ]
        if let info = server.serverInfo { fields.append(("serverInfo", info)) }
        recordLifecycle(.serverReady, fields)
        if server.era == .modern { listenForChanges(server) }
        logger.debug("[\(server.name)] ready with \(server.tools.count) tools")
        if startupComplete { rebuildCatalog() } else { checkStartupComplete() }
    }

    /// A server stopped being usable. `restartable` is false when restarting cannot help (no such command,
    /// refused handshake) or the shim stopped it on purpose.
    func serverFailed(_ server: Server, reason: String, restartable: Bool) {
        guard server.phase != .failed && server.phase != .gone else { return }
        let wasReady = server.phase == .ready
        server.phase = wasReady ? .gone : .failed
        server.probe = nil
        initializeDeadlines.removeAll { $0.server == server.index }
        logger.error("[\(server.name)] \(reason); its tools are not available")
        recordLifecycle(.serverFailed, [("server", .string(server.name)), ("reason", .string(reason))])
        failPendingRequests(of: server, outcome: "child_exited", message: "The server \(server.name) \(reason)")
        if server.isRunning {
            server.stoppedByShim = true
            perform(.stop(server: server.index))
        }
        server.inputOpen = false
        server.input.discardAll()
        if restartable && !stopping { scheduleRestart(server, wasReady: wasReady) }
        answerInitializeIfReady()
        if startupComplete { rebuildCatalog() } else { checkStartupComplete() }
    }

    func checkStartupComplete() {
        guard !startupComplete else { return }
        let deadlinePassed = startupDeadline.map { now >= $0 } ?? false
        guard servers.allSatisfy(\.isSettled) || deadlinePassed else { return }
        startupComplete = true
        answerInitializeIfReady()
        rebuildCatalog()
        reportCatalog()
        replayDeferredAgentLines()
    }

    /// Says, once the servers have started, when the agent was given less than the persona meant: an allow pattern
    /// that matched no tool, or no tool at all, are the easiest mistakes to make and the hardest to see from the
    /// agent's side. Logged and audited; a session without either writes nothing more.
    private func reportCatalog() {
        let unmatched = UnmatchedPatterns.find(
            allow: persona.tools.allow, exposedNames: catalog.entries.map(\.exposedName))
        let visible = catalog.visible.count
        for pattern in unmatched {
            let why =
                UnmatchedPatterns.reasonNeverMatches(pattern, servers: servers.map(\.name)).map { ": \($0)" } ?? ""
            logger.warning("the allow pattern \"\(pattern)\" matched none of the servers' tools\(why)")
        }
        if visible == 0 {
            logger.warning(
                "the agent sees no tools: none of the \(catalog.entries.count) tools the servers offer is allowed by the persona \"\(persona.name)\". Run 'persona-shim tools' with the same arguments to see why."
            )
        }
        if !catalog.cleaned.isEmpty {
            logger.warning(
                "removed control or invisible characters from the descriptions of \(catalog.cleaned.joined(separator: ", "))"
            )
        }
        guard !unmatched.isEmpty || visible == 0 || !catalog.cleaned.isEmpty else { return }
        recordLifecycle(
            .sessionTools,
            [
                ("visible", .integer(visible)), ("offered", .integer(catalog.entries.count)),
                ("unmatchedPatterns", .array(unmatched.map { .string($0.pattern) })),
                ("cleanedTools", .array(catalog.cleaned.map(JSONValue.string))),
            ])
    }

    /// Answers every request of `server` the agent or the shim still waits on: the server cannot answer them.
    func failPendingRequests(of server: Server, outcome: String, message: String) {
        for (id, request) in routes.pending where request.server == server.index {
            switch request {
            case .forward(let forwarded):
                routes.finish(id)
                failForward(
                    forwarded, outcome: outcome, code: JSONRPCError.requestFailed,
                    "\(message) before answering; the request may or may not have taken effect")
            case .fanOutPage(let fanOutID, let index, _):
                routes.pending[id] = nil
                routes.fanOuts[fanOutID]?.waiting.remove(index)
                completeFanOutIfDone(fanOutID)
            default:
                routes.pending[id] = nil
            }
        }
        for (id, request) in routes.agentBound where request.server == server.index {
            routes.agentBound[id] = nil
        }
        routes.urlElicitations.forget(server: server.index)
        if server.phase == .listing || server.phase == .initializing { server.listsPending = 0 }
    }

    /// Records a server's start, readiness, failure, exit or restart. These forward nothing, so a record that
    /// cannot be written stops nothing: it is logged, and every decision after it is refused if the audit file
    /// stays unwritable.
    func recordLifecycle(_ event: AuditEvent, _ fields: [(String, JSONValue)]) {
        do {
            try audit.record(event, fields)
        } catch {
            logger.error("\(error)")
        }
    }
}
