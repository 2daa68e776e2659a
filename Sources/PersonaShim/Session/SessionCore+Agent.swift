import Platform

/// Messages from the agent: dispatch, the handshake, notifications, and answers to requests the shim relayed.
extension SessionCore {
    func handleAgentLine(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) {
        let envelope: MessageEnvelope
        do {
            envelope = try MessageEnvelope.scan(raw, range: range)
        } catch {
            logger.debug("invalid message from the agent: \(error.message)")
            sendToAgent(Message.error(id: error.id.map { raw[$0] }, code: error.code, message: error.message))
            return
        }
        guard envelope.hasVersion else {
            if envelope.kind == .request {
                sendToAgent(
                    Message.error(
                        id: raw[envelope.id!], code: JSONRPCError.invalidRequest,
                        message: #"Invalid Request: "jsonrpc" must be "2.0""#))
            }
            return
        }
        switch envelope.kind {
        case .request: handleAgentRequest(raw, envelope, range)
        case .notification: handleAgentNotification(raw, envelope)
        case .response: handleAgentResponse(raw, envelope, range)
        }
    }

    /// A line longer than the shim accepts was discarded unread: the agent hears so (its id cannot be known).
    func agentLineTooLong(_ bytes: Int, limit: Int) {
        logger.warning("discarded a message of \(bytes) bytes from the agent (the limit is \(limit) bytes)")
        sendToAgent(
            Message.error(
                id: [UInt8]?.none, code: JSONRPCError.invalidRequest,
                message: "Message of \(bytes) bytes exceeds persona-shim's limit of \(limit) bytes and was discarded"))
    }

    /// Whether the shim serves `method` (anything else is `-32601` at once), and whether its answer depends on
    /// every server having started.
    static func serves(_ method: String) -> (served: Bool, needsServers: Bool) {
        switch method {
        case "tools/call", "tools/list", "prompts/list", "prompts/get", "resources/list", "resources/templates/list",
            "resources/read", "resources/subscribe", "resources/unsubscribe", "completion/complete":
            (true, true)
        case "logging/setLevel", "subscriptions/listen": (true, false)
        default: (false, false)
        }
    }

    private func handleAgentRequest(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>) {
        let id = raw[envelope.id!]
        let method = envelope.method!
        if method == "server/discover" { return answerDiscover(raw, envelope) }
        if method == "initialize" { return handleInitialize(raw, envelope) }
        if method == "ping" { return sendToAgent(Message.response(id: id, result: [:])) }
        currentCapabilities = nil
        if agentEra == .modern || carriesModernVersion(raw, envelope) {
            guard admitModernRequest(raw, envelope, method: method) else { return }
        }
        // subscriptions/listen belongs to the stateless revisions: a legacy agent gets -32601 for it, as before.
        let (served, needsServers) =
            method == "subscriptions/listen" && agentEra != .modern ? (false, false) : Self.serves(method)
        guard served else {
            return sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message: "Method not found: \(method) (persona-shim does not serve it)"))
        }
        guard agentInitialized else {
            return sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidRequest,
                    message: "The session is not initialized: send initialize before \(method)"))
        }
        if needsServers && !startupComplete {
            // Servers are still starting; answer once they are ready (bounded by the startup deadline).
            deferredAgentLines.append(Array(raw[range]))
            return
        }
        let request = AgentRequest(raw: raw, envelope: envelope, range: range)
        if let duplicate = request.params.duplicate {
            return sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidParams,
                    message: "Invalid params: the key \"\(duplicate)\" appears twice"))
        }
        switch method {
        case "tools/list", "prompts/list":
            guard request.rejectCursor(self) else { return }
            var response = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
            response.append(contentsOf: id)
            response.append(contentsOf: #","result":"#.utf8)
            let list = method == "tools/list" ? toolsListResult : promptsListResult
            if agentEra == .modern {
                response.append(contentsOf: Self.modernListHead)
                response.append(contentsOf: list.dropFirst())
            } else {
                response.append(contentsOf: list)
            }
            response.append(contentsOf: "}\n".utf8)
            sendToAgent(response, marked: true)
        case "tools/call": handleToolCall(request)
        case "prompts/get": handlePromptGet(request)
        case "resources/list", "resources/templates/list":
            guard request.rejectCursor(self) else { return }
            startFanOut(request)
        case "resources/read", "resources/subscribe", "resources/unsubscribe": handleResourceRequest(request)
        case "completion/complete": handleCompletion(request)
        case "logging/setLevel": handleSetLevel(request)
        case "subscriptions/listen": handleListen(request)
        default: break
        }
    }

    private func handleAgentNotification(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        switch envelope.method! {
        case "notifications/initialized":
            logger.debug("the agent finished initialization")
        case "notifications/cancelled":
            guard let params = envelope.params,
                let requestRange = MessageEnvelope.members(raw, object: params, named: ["requestId"])[0]
            else { return }
            cancelAgentRequest(Array(raw[requestRange]), reason: paramsMember(raw, params, "reason"))
        case "notifications/roots/list_changed":
            for server in servers where serverClientCapabilities["roots"] != nil && server.isConnected {
                server.input.append(Message.notification(method: "notifications/roots/list_changed", params: nil))
            }
        default:
            break
        }
    }

    /// The agent answered a request a server sent through the shim: pass it back under the server's own id.
    private func handleAgentResponse(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>) {
        if !approvals.asking.isEmpty, let idRange = envelope.id, let id = JSONReader.integer(raw, idRange),
            approvals.asking[id] != nil
        {
            return clientAnsweredApproval(id, raw, envelope)
        }
        guard let idRange = envelope.id, let id = JSONReader.integer(raw, idRange),
            let request = routes.agentBound.removeValue(forKey: id)
        else {
            logger.debug("ignored a response from the agent to a request nobody is waiting for")
            return
        }
        if let exchange = request.exchange { return exchangeAnswered(exchange.id, key: exchange.key, raw, envelope) }
        let server = servers[request.server]
        guard server.isConnected else { return }
        server.input.appendLine(raw, range: range, replacing: [(idRange, request.serverID)])
    }

    private func paramsMember(_ raw: UnsafeRawBufferPointer, _ params: Range<Int>, _ name: String) -> JSONValue? {
        MessageEnvelope.members(raw, object: params, named: [name])[0].flatMap { try? JSONValue.parse(raw, range: $0) }
    }

    /// The agent gave up on a request: tell the server, and make sure no late answer reaches the agent.
    private func cancelAgentRequest(_ agentID: [UInt8], reason: JSONValue?) {
        // A request still waiting for the servers to start is simply dropped: nobody has seen it yet.
        deferredAgentLines.removeAll { line in
            line.withUnsafeBytes { bytes in
                guard let envelope = try? MessageEnvelope.scan(bytes, range: 0..<line.count), let id = envelope.id
                else { return false }
                return bytes[id].elementsEqual(agentID)
            }
        }
        routes.fanOuts = routes.fanOuts.filter { $0.value.agentID != agentID }
        endListen(agentID)
        // A request waiting for the agent's answers to a server's questions is not retried.
        exchanges = exchanges.filter { $0.value.request.agentID != agentID }
        if !approvals.parked.isEmpty { withdrawParkedCalls(agentID: agentID) }
        for (shimID, request) in routes.forwards(where: { $0.agentID == agentID }) {
            routes.finish(shimID)
            var cancel = JSONObject([("requestId", .integer(shimID))])
            if let reason { cancel["reason"] = reason }
            servers[request.server].input.append(
                Message.notification(method: "notifications/cancelled", params: .object(cancel)))
            recordOutcome(request, outcome: "cancelled")
        }
    }

    private func handleInitialize(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        let id = Array(raw[envelope.id!])
        guard agentEra != .modern else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidRequest,
                    message:
                        "Invalid Request: this session speaks \(agentProtocolVersion), which has no handshake, so initialize is refused. Start a new session to speak a handshake revision."
                ))
            return
        }
        guard !agentInitialized else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidRequest,
                    message: "Invalid Request: the session is already initialized"
                ))
            return
        }
        let params = envelope.params.flatMap { try? JSONValue.parse(raw, range: $0) }
        agentProtocolVersion = MCPProtocol.negotiate(params?["protocolVersion"]?.stringValue)
        downgrade = VersionDowngrade(version: agentProtocolVersion)
        agentCapabilities = params?["capabilities"]?.objectValue ?? JSONObject()
        // Self-reported: recorded as the agent's claim, never used for a decision.
        if let clientInfo = params?["clientInfo"], let name = clientInfo["name"]?.stringValue {
            audit.agent = AgentIdentity(name: name, version: clientInfo["version"]?.stringValue, source: "clientInfo")
        } else {
            audit.agent = AgentIdentity(name: "unknown", version: nil, source: "none")
        }
        agentInitialized = true
        agentEra = .legacy
        pendingInitializeID = id
        startSession()
        answerInitializeIfReady()
    }

    /// Answers the agent's `initialize` once every server has answered its own (or failed, or timed out),
    /// because the capabilities the shim advertises are the union of theirs.
    func answerInitializeIfReady() {
        guard let id = pendingInitializeID else { return }
        let deadlinePassed = startupDeadline.map { now >= $0 } ?? false
        guard servers.allSatisfy(\.hasAnsweredInitialize) || deadlinePassed else { return }
        pendingInitializeID = nil
        var capabilities = JSONObject([("tools", ["listChanged": true])])
        let live = servers.filter(\.isConnected)
        func anyOffers(_ key: String) -> Bool { live.contains { $0.capabilities[key] != nil } }
        if anyOffers("prompts") && !persona.prompts.allow.isEmpty {
            capabilities["prompts"] = ["listChanged": true]
        }
        if anyOffers("resources") && !persona.resources.allow.isEmpty {
            let subscribe = live.contains { $0.capabilities["resources"]?["subscribe"] == true }
            capabilities["resources"] = ["subscribe": .bool(subscribe), "listChanged": true]
        }
        if anyOffers("logging") { capabilities["logging"] = [:] }
        if anyOffers("completions") && agentProtocolVersion >= "2025-03-26" { capabilities["completions"] = [:] }
        let result: JSONValue = [
            "protocolVersion": .string(agentProtocolVersion),
            "capabilities": .object(capabilities),
            "serverInfo": .object(downgrade.definition(shimInfo)),
            "instructions": .string(instructions),
        ]
        sendToAgent(Message.response(id: id, result: result))
    }

    /// Answers requests that waited for the servers to start.
    func replayDeferredAgentLines() {
        let lines = deferredAgentLines
        deferredAgentLines = []
        for line in lines {
            line.withUnsafeBytes { handleAgentLine($0, 0..<line.count) }
        }
    }
}
