import CPersonaShim

#if canImport(Glibc)
    import Glibc
#endif

/// Messages from downstream servers.
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
        case .request: handleChildRequest(child, raw, envelope, range)
        case .notification: handleChildNotification(child, raw, envelope, range)
        }
    }

    private func handleChildResponse(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        guard let idRange = envelope.id, let id = JSONReader.integer(raw, idRange),
            let request = pending[id], request.server == child.index
        else {
            // Late (cancelled, timed out) or forged: no one is waiting for it.
            logger.debug("[\(child.name)] dropped a response nobody is waiting for")
            return
        }
        switch request {
        case .initialize:
            pending[id] = nil
            childInitialized(child, raw, envelope)
        case .list(_, let key, let page, let generation):
            pending[id] = nil
            guard generation == child.listGeneration[key] else { return }
            childListPage(child, raw, envelope, key: key, page: page)
        case .fanOutPage(let fanOutID, _, let page):
            pending[id] = nil
            childFanOutPage(child, raw, envelope, fanOutID: fanOutID, page: page)
        case .internalRequest:
            pending[id] = nil
        case .forward(let forwarded):
            finishRequest(id)
            completeForwarded(forwarded, child, raw, envelope, range, idRange: idRange)
        }
    }

    /// Passes a server's answer back to the agent: by bytes with only the id replaced, unless its content
    /// must change (resource URIs to expose, or fields the agent's protocol revision does not know).
    private func completeForwarded(
        _ request: ForwardedRequest, _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope,
        _ range: Range<Int>, idRange: Range<Int>
    ) {
        var outcome = "ok"
        var errorCode: [UInt8]?
        if let error = envelope.error {
            outcome = "protocol_error"
            errorCode = MessageEnvelope.members(raw, object: error, named: ["code"])[0].map { Array(raw[$0]) }
        } else if envelope.resultIsError {
            outcome = "tool_error"
        }
        recordOutcome(request, outcome: outcome, errorCode: errorCode)
        if request.subject == .resource, let errorCode,
            errorCode.elementsEqual(String(JSONRPCError.resourceNotFound).utf8)
        {
            // A server's own "not found" wording must not tell a missing resource from a hidden one.
            sendToAgent(
                Message.error(
                    id: request.agentID, code: JSONRPCError.resourceNotFound, message: "Resource not found",
                    data: ["uri": .string(request.exposedName)]))
            return
        }
        if let resultRange = envelope.result,
            let rewritten = rewriteResult(
                request, child, raw, resultRange, hasResources: envelope.resultHasResourceContent)
        {
            sendToAgent(Message.response(id: request.agentID, result: rewritten))
        } else if !agentGone {
            do {
                try agentOutput.sendLine(
                    from: child.stdout, range: range, replacing: [(idRange, request.agentID)], to: agentOutputFD)
            } catch {
                agentWentAway(error)
            }
        }
    }

    /// The rewritten result, or nil when the server's bytes can go to the agent as they are.
    private func rewriteResult(
        _ request: ForwardedRequest, _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ resultRange: Range<Int>,
        hasResources: Bool
    ) -> JSONValue? {
        let needsURIs: Bool
        switch request.method {
        case "resources/read": needsURIs = uris.prefixed
        case "tools/call", "prompts/get":
            needsURIs = uris.prefixed && hasResources
        default: needsURIs = false
        }
        // Results gained nothing an older agent must not see after 2025-06-18, so only older agents, and only
        // results that hold such content, are rewritten; everything else goes through as the server's bytes.
        let needsDowngrade =
            (request.method == "tools/call" || request.method == "prompts/get") && downgrade.rewritesResults
            && VersionDowngrade.resultMarkers.contains { contains(raw, resultRange, $0) }
        guard needsURIs || needsDowngrade, var result = try? JSONValue.parse(raw, range: resultRange) else {
            return nil
        }
        switch request.method {
        case "resources/read":
            if case .object(var object) = result, case .array(let contents)? = object["contents"] {
                object["contents"] = .array(
                    contents.map { item in
                        guard case .object(var item) = item, let uri = item["uri"]?.stringValue else { return item }
                        item["uri"] = .string(uris.expose(uri, server: child.index))
                        return .object(item)
                    })
                result = .object(object)
            }
        case "tools/call":
            result = downgrade.toolResult(uris.exposeContent(result, server: child.index))
        default:
            result = downgrade.promptResult(uris.exposeContent(result, server: child.index))
        }
        return result
    }

    private func contains(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ needle: String) -> Bool {
        let bytes = Array(needle.utf8)
        return bytes.withUnsafeBytes { needleBytes in
            ps_memmem(raw.baseAddress! + range.lowerBound, range.count, needleBytes.baseAddress!, bytes.count) != nil
        }
    }

    private func childFanOutPage(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, fanOutID: Int, page: Int
    ) {
        guard var fanOut = fanOuts[fanOutID] else { return }
        let result = envelope.result.flatMap { try? JSONValue.parse(raw, range: $0) }
        let items = result?[fanOut.key]?.arrayValue?.compactMap(\.objectValue) ?? []
        fanOut.items[child.index, default: []].append(contentsOf: items)
        if let cursor = result?["nextCursor"]?.stringValue, page + 1 < Self.maximumPages {
            fanOuts[fanOutID] = fanOut
            requestFanOutPage(fanOutID, server: child.index, cursor: cursor, page: page + 1)
            return
        }
        fanOut.waiting.remove(child.index)
        fanOuts[fanOutID] = fanOut
        completeFanOutIfDone(fanOutID)
    }

    // MARK: Requests from servers

    private static let agentBoundMethods = [
        "sampling/createMessage": ("sampling", \ServerRequestPolicy.sampling),
        "elicitation/create": ("elicitation", \ServerRequestPolicy.elicitation),
        "roots/list": ("roots", \ServerRequestPolicy.roots),
    ]

    private func handleChildRequest(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        let idRange = envelope.id!
        let id = raw[idRange]
        let method = envelope.method!
        if method == "ping" { return child.input.append(Message.response(id: id, result: [:])) }
        guard let (capability, permission) = Self.agentBoundMethods[method] else {
            return child.input.append(
                Message.error(id: id, code: JSONRPCError.methodNotFound, message: "Method not found: \(method)"))
        }
        guard persona.serverRequests[keyPath: permission] else {
            logger.info("[\(child.name)] refused \(method): the persona does not allow it")
            try? audit.record(
                "server.request",
                [
                    ("server", .string(child.name)), ("method", .string(method)), ("decision", "deny"),
                    ("rule", .string("serverRequests.\(capability)")),
                ])
            return child.input.append(
                Message.error(
                    id: id, code: JSONRPCError.requestFailed,
                    message: "The persona \"\(persona.name)\" does not allow servers to use \(method)"))
        }
        guard agentCapabilities[capability] != nil, agentInitialized, !agentGone else {
            return child.input.append(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message: "The client does not support \(method) (it did not declare \"\(capability)\")"))
        }
        let shimID = nextRequestID
        nextRequestID += 1
        agentBound[shimID] = AgentBoundRequest(server: child.index, childID: Array(id), method: method)
        try? audit.record(
            "server.request",
            [
                ("server", .string(child.name)), ("method", .string(method)), ("decision", "allow"),
                ("rule", .string("serverRequests.\(capability)")),
            ])
        agentOutput.appendLine(raw, range: range, replacing: [(idRange, Array(String(shimID).utf8))])
    }

    // MARK: Notifications from servers

    private func handleChildNotification(
        _ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        guard agentInitialized else { return }
        switch envelope.method! {
        case "notifications/progress":
            guard let params = envelope.params,
                let tokenRange = MessageEnvelope.members(raw, object: params, named: ["progressToken"])[0],
                let token = JSONReader.integer(raw, tokenRange),
                let route = progressRoutes[token], pending[route.request]?.server == child.index
            else { return }  // Unknown token, or progress after the final answer: some clients drop the connection.
            agentOutput.appendLine(raw, range: range, replacing: [(tokenRange, route.agentToken)])
        case "notifications/message":
            forwardLogMessage(child, raw, envelope)
        case "notifications/tools/list_changed":
            if child.phase == .ready { requestListPage(child, key: "tools", cursor: nil, page: 0) }
        case "notifications/prompts/list_changed":
            if child.phase == .ready { requestListPage(child, key: "prompts", cursor: nil, page: 0) }
        case "notifications/resources/list_changed":
            if !persona.resources.allow.isEmpty { announceListChange("resources") }
        case "notifications/resources/updated":
            guard let params = envelope.params, case .string(let uri)? = paramsValue(raw, params, "uri") else { return }
            let exposed = uris.expose(uri, server: child.index)
            guard subscriptions.contains(exposed) else { return }
            var object = (try? JSONValue.parse(raw, range: params))?.objectValue ?? JSONObject()
            object["uri"] = .string(exposed)
            sendToAgent(Message.notification(method: "notifications/resources/updated", params: .object(object)))
        case "notifications/cancelled":
            guard let params = envelope.params,
                let requestRange = MessageEnvelope.members(raw, object: params, named: ["requestId"])[0]
            else { return }
            let childID = Array(raw[requestRange])
            guard
                let (shimID, _) = agentBound.first(where: {
                    $0.value.server == child.index && $0.value.childID == childID
                })
            else { return }
            agentBound[shimID] = nil
            var cancel = JSONObject([("requestId", .integer(shimID))])
            if let reason = paramsValue(raw, params, "reason") { cancel["reason"] = reason }
            sendToAgent(Message.notification(method: "notifications/cancelled", params: .object(cancel)))
        default:
            logger.debug("[\(child.name)] ignored notification \(envelope.method!)")
        }
    }

    private func paramsValue(_ raw: UnsafeRawBufferPointer, _ params: Range<Int>, _ name: String) -> JSONValue? {
        MessageEnvelope.members(raw, object: params, named: [name])[0].flatMap { try? JSONValue.parse(raw, range: $0) }
    }

    /// Forwards a server's log line at or above the agent's level, with the logger named after the server.
    private func forwardLogMessage(_ child: Downstream, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
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
        object["logger"] = .string(logger.map { "\(child.name)/\($0)" } ?? child.name)
        sendToAgent(Message.notification(method: "notifications/message", params: .object(object)))
    }

    /// Coalesces list changes over a short window so a burst becomes one notification.
    func announceListChange(_ list: String) {
        guard catalogPublished || list == "resources" else { return }
        pendingListChanges.insert(list)
        if listChangeDeadline == nil { listChangeDeadline = monotonicNow() + 50_000_000 }
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
