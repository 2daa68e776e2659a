/// Notifications from servers: progress, logs, list changes, resource updates, cancellations.
extension SessionCore {
    func handleServerNotification(
        _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        guard agentInitialized else { return }
        let admitted = server.notificationBudget.admit(now: now)
        switch server.notificationBudget.takeReport(now: now) {
        case .started?:
            logger.warning(
                "[\(server.name)] sends more than \(NotificationBudget.perSecond) notifications a second; dropping what is over the bound"
            )
        case .dropped(let count)?:
            logger.warning("[\(server.name)] dropped \(count) notifications over the bound")
        case nil: break
        }
        guard admitted else { return }
        switch envelope.method! {
        case "notifications/progress":
            guard let params = envelope.params,
                let tokenRange = MessageEnvelope.members(raw, object: params, named: ["progressToken"])[0],
                let token = JSONReader.integer(raw, tokenRange),
                let route = routes.progressRoutes[token], routes.pending[route.request]?.server == server.index
            else { return }  // Unknown token, or progress after the final answer: some clients drop the connection.
            agentOutput.appendLine(raw, range: range, replacing: [(tokenRange, route.agentToken)])
        case "notifications/message":
            // The stateless revisions send a request's log lines only when it asked for them (`RequestLogging`).
            forwardLogMessage(server, raw, envelope)
        case "notifications/elicitation/complete":
            elicitationCompleted(server, raw, envelope)
        case "notifications/tools/list_changed":
            relist(server, key: "tools")
        case "notifications/prompts/list_changed":
            relist(server, key: "prompts")
        case "notifications/resources/list_changed":
            if !persona.resources.allow.isEmpty { announceListChange("resources") }
        case "notifications/resources/updated":
            guard let params = envelope.params else { return }
            resourceUpdated(server, raw, params: params)
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
        let level = object["level"]?.stringValue.flatMap(LogLevel.init)
        if agentEra == .modern {
            guard modernAgentWantsLog(from: server, level: level) else { return }
        } else if let threshold = logLevel.flatMap(LogLevel.init), let level, level < threshold {
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
        // A modern agent hears of changes only on the subscriptions/listen streams that asked for them.
        if agentEra == .modern {
            for list in pendingListChanges.sorted() {
                for listen in listens where listen.lists.contains(list) {
                    sendToAgent(
                        Message.notification(
                            method: "notifications/\(list)/list_changed",
                            params: ["_meta": [MCPProtocol.subscriptionIDKey: listen.value]]))
                }
            }
            return pendingListChanges.removeAll()
        }
        for list in pendingListChanges.sorted() {
            sendToAgent(Message.notification(method: "notifications/\(list)/list_changed", params: nil))
        }
        pendingListChanges.removeAll()
    }
}
