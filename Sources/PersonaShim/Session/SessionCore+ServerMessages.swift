import CPersonaShim

#if canImport(Glibc)
    import Glibc
#endif

/// Requests and notifications from servers.
extension SessionCore {
    // MARK: Requests from servers

    private static let agentBoundMethods = [
        "sampling/createMessage": ("sampling", \ServerRequestPolicy.sampling),
        "elicitation/create": ("elicitation", \ServerRequestPolicy.elicitation),
        "roots/list": ("roots", \ServerRequestPolicy.roots),
    ]

    func handleServerRequest(
        _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        let idRange = envelope.id!
        let id = raw[idRange]
        let method = envelope.method!
        if method == "ping" { return server.input.append(Message.response(id: id, result: [:])) }
        guard let (capability, permission) = Self.agentBoundMethods[method] else {
            return server.input.append(
                Message.error(id: id, code: JSONRPCError.methodNotFound, message: "Method not found: \(method)"))
        }
        guard persona.serverRequests[keyPath: permission] else {
            logger.info("[\(server.name)] refused \(method): the persona does not allow it")
            // A refusal forwards nothing, so a record that cannot be written stops nothing more: it is logged.
            do {
                try recordServerRequest(server, method, capability: capability, decision: "deny")
            } catch {
                logger.error("\(error)")
            }
            return server.input.append(
                Message.error(
                    id: id, code: JSONRPCError.requestFailed,
                    message: "The persona \"\(persona.name)\" does not allow servers to use \(method)"))
        }
        guard agentCapabilities[capability] != nil, agentInitialized, !agentGone else {
            return server.input.append(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message: "The client does not support \(method) (it did not declare \"\(capability)\")"))
        }
        // Write-ahead, as for the agent's requests: no record on file, no forward.
        do {
            try recordServerRequest(server, method, capability: capability, decision: "allow")
        } catch {
            logger.error("refusing \(method) from \(server.name): \(error)")
            return server.input.append(
                Message.error(
                    id: id, code: JSONRPCError.internalError,
                    message:
                        "persona-shim refused \(method) because it could not write the audit record (\(error.reason)); it was not forwarded to the client"
                ))
        }
        let shimID = routes.allocateID()
        routes.agentBound[shimID] = AgentBoundRequest(server: server.index, serverID: Array(id), method: method)
        agentOutput.appendLine(raw, range: range, replacing: [(idRange, JSONWriter.integerText(shimID))])
    }

    private func recordServerRequest(
        _ server: Server, _ method: String, capability: String, decision: String
    ) throws(AuditError) {
        try audit.record(
            .serverRequest,
            [
                ("server", .string(server.name)), ("method", .string(method)), ("decision", .string(decision)),
                ("rule", .string("serverRequests.\(capability)")),
            ])
    }

    // MARK: Notifications from servers

    func handleServerNotification(
        _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        guard agentInitialized else { return }
        switch envelope.method! {
        case "notifications/progress":
            guard let params = envelope.params,
                let tokenRange = MessageEnvelope.members(raw, object: params, named: ["progressToken"])[0],
                let token = JSONReader.integer(raw, tokenRange),
                let route = routes.progressRoutes[token], routes.pending[route.request]?.server == server.index
            else { return }  // Unknown token, or progress after the final answer: some clients drop the connection.
            agentOutput.appendLine(raw, range: range, replacing: [(tokenRange, route.agentToken)])
        case "notifications/message":
            forwardLogMessage(server, raw, envelope)
        case "notifications/tools/list_changed":
            if server.phase == .ready { requestListPage(server, key: "tools", cursor: nil, page: 0) }
        case "notifications/prompts/list_changed":
            if server.phase == .ready { requestListPage(server, key: "prompts", cursor: nil, page: 0) }
        case "notifications/resources/list_changed":
            if !persona.resources.allow.isEmpty { announceListChange("resources") }
        case "notifications/resources/updated":
            guard let params = envelope.params, case .string(let uri)? = paramsValue(raw, params, "uri") else { return }
            let exposed = uris.expose(uri, server: server.index)
            guard subscriptions.contains(exposed) else { return }
            var object = (try? JSONValue.parse(raw, range: params))?.objectValue ?? JSONObject()
            object["uri"] = .string(exposed)
            sendToAgent(Message.notification(method: "notifications/resources/updated", params: .object(object)))
        case "notifications/cancelled":
            guard let params = envelope.params,
                let requestRange = MessageEnvelope.members(raw, object: params, named: ["requestId"])[0]
            else { return }
            let serverID = Array(raw[requestRange])
            guard
                let (shimID, _) = routes.agentBound.first(where: {
                    $0.value.server == server.index && $0.value.serverID == serverID
                })
            else { return }
            routes.agentBound[shimID] = nil
            var cancel = JSONObject([("requestId", .integer(shimID))])
            if let reason = paramsValue(raw, params, "reason") { cancel["reason"] = reason }
            sendToAgent(Message.notification(method: "notifications/cancelled", params: .object(cancel)))
        default:
            logger.debug("[\(server.name)] ignored notification \(envelope.method!)")
        }
    }

    private func paramsValue(_ raw: UnsafeRawBufferPointer, _ params: Range<Int>, _ name: String) -> JSONValue? {
        MessageEnvelope.members(raw, object: params, named: [name])[0].flatMap { try? JSONValue.parse(raw, range: $0) }
    }

    /// Forwards a server's log line at or above the agent's level, with the logger named after the server.
    private func forwardLogMessage(_ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard let params = envelope.params, case .object(var object)? = try? JSONValue.parse(raw, range: params) else {
            return
        }
        if let threshold = logLevel.flatMap(LogLevel.init),
            let level = object["level"]?.stringValue.flatMap(LogLevel.init),
            level < threshold
        {
            return
        }
        let logger = object["logger"]?.stringValue
        object["logger"] = .string(logger.map { "\(server.name)/\($0)" } ?? server.name)
        sendToAgent(Message.notification(method: "notifications/message", params: .object(object)))
    }

    /// Coalesces list changes over a short window so a burst becomes one notification.
    func announceListChange(_ list: String) {
        guard catalogPublished || list == "resources" else { return }
        pendingListChanges.insert(list)
        if listChangeDeadline == nil { listChangeDeadline = now + 50_000_000 }
    }

    func flushListChanges() {
        listChangeDeadline = nil
        guard agentInitialized else { return pendingListChanges.removeAll() }
        for list in pendingListChanges.sorted() {
            sendToAgent(Message.notification(method: "notifications/\(list)/list_changed", params: nil))
        }
        pendingListChanges.removeAll()
    }
}
