import Platform

/// Messages from servers, and their answers to what the agent asked.
extension SessionCore {
    /// One line from server `index`, in `reader`'s buffer. A large answer may be lent to the agent's output
    /// straight from that buffer (the reader then reads nothing more until it is written).
    func handleServerLine(_ index: Int, from reader: LineReader, _ range: Range<Int>) {
        let server = servers[index]
        let raw = reader.bytes
        let envelope: MessageEnvelope
        do {
            envelope = try MessageEnvelope.scan(raw, range: range)
        } catch {
            let preview = maskedLogText(String(decoding: raw[range.prefix(80)], as: UTF8.self), cut: true)
            logger.warning(
                "[\(server.name)] dropped a line that is not a JSON-RPC message (\(error.message)): \(preview)")
            let id = error.id ?? MessageEnvelope.salvageID(raw, range: range)
            if MessageEnvelope.salvageHasMethod(raw, range: range) {
                return refuseMalformedRequest(server, id: id.map { Array(raw[$0]) }, reason: error.message)
            }
            return malformedAnswer(server, id: id.flatMap { JSONReader.integer(raw, $0) }, reason: error.message)
        }
        if let fault = Self.fault(in: envelope, raw) {
            logger.warning("[\(server.name)] dropped a malformed message: \(fault)")
            guard envelope.kind == .response else {
                return refuseMalformedRequest(server, id: envelope.id.map { Array(raw[$0]) }, reason: fault)
            }
            return malformedAnswer(server, id: envelope.id.flatMap { JSONReader.integer(raw, $0) }, reason: fault)
        }
        if masking != nil, envelope.kind != .response, maskServerMessage(server, raw, envelope, range) { return }
        switch envelope.kind {
        case .response: handleServerResponse(server, reader, envelope, range)
        case .request: handleServerRequest(server, raw, envelope, range)
        case .notification: handleServerNotification(server, raw, envelope, range)
        }
    }

    private func handleServerResponse(
        _ server: Server, _ reader: LineReader, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) {
        let raw = reader.bytes
        guard let idRange = envelope.id, let id = JSONReader.integer(raw, idRange),
            let request = routes.pending[id], request.server == server.index
        else {
            // Late (cancelled, timed out) or forged: no one is waiting for it.
            logger.debug("[\(server.name)] dropped a response nobody is waiting for")
            return
        }
        switch request {
        case .initialize:
            routes.pending[id] = nil
            serverInitialized(server, raw, envelope)
        case .discover:
            routes.pending[id] = nil
            serverDiscovered(server, raw, envelope)
        case .list(_, let key, let page, let generation):
            routes.pending[id] = nil
            guard generation == server.listGeneration[key] else { return }
            serverListPage(server, raw, envelope, key: key, page: page)
        case .fanOutPage(let fanOutID, _, let page):
            routes.pending[id] = nil
            serverFanOutPage(server, raw, envelope, fanOutID: fanOutID, page: page)
        case .internalRequest:
            routes.pending[id] = nil
        case .forward(let forwarded):
            routes.finish(id)
            completeForwarded(forwarded, server, reader, envelope, range, idRange: idRange)
        }
    }

    /// Passes a server's answer back to the agent: by bytes with only the id replaced, unless its content
    /// must change (resource URIs to expose, or fields the agent's protocol revision does not know).
    private func completeForwarded(
        _ request: ForwardedRequest, _ server: Server, _ reader: LineReader, _ envelope: MessageEnvelope,
        _ range: Range<Int>, idRange: Range<Int>
    ) {
        let raw = reader.bytes
        var outcome = "ok"
        var errorCode: [UInt8]?
        var requiredElicitations: [UInt8]?
        if let error = envelope.error {
            outcome = "protocol_error"
            errorCode = MessageEnvelope.members(raw, object: error, named: ["code"])[0].map { Array(raw[$0]) }
            if let errorCode, errorCode.elementsEqual("-32042".utf8) {
                requiredElicitations = requiredElicitationsError(
                    server, raw, error: error, agentID: request.agentID)
            }
        } else if envelope.resultIsError {
            outcome = "tool_error"
        } else if let result = envelope.result, ModernResult.requiresInput(raw, type: envelope.resultType) {
            // Whatever era the server said it speaks: an interim result is never passed on unjudged.
            if relayInputRequired(request, server, raw, result: result) { return }
            if askLegacyAgent(request, server, raw, result: result) { return }
            // No agent can be asked here (another method, or a legacy agent whose request was not kept to retry).
            recordOutcome(request, outcome: "input_required")
            if request.subject == .tool, calls != nil { callAnswered(failed: true) }
            return refuse(
                request.agentID, request.subject,
                "The server \(server.name) needs more input to answer \(request.exposedName) (a multi round-trip request), which persona-shim relays only to agents speaking \(MCPProtocol.latestModernVersion); the request did not complete.",
                code: JSONRPCError.requestFailed)
        }
        recordOutcome(request, outcome: outcome, errorCode: errorCode)
        if request.subject == .tool, calls != nil { callAnswered(failed: outcome != "ok") }
        if let requiredElicitations { return sendToAgent(maskedError(requiredElicitations, request)) }
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
        var rewritten = envelope.result.flatMap {
            rewriteResult(request, server, raw, $0, hasResources: envelope.resultHasResourceContent)
        }
        if masking != nil {
            switch maskAnswer(request, server, raw, envelope, rewritten: rewritten) {
            case .unchanged: break
            case .result(let value): rewritten = value
            case .sent: return
            }
        }
        let policy = responsePolicy(for: request)
        if policy.judgesResponses, let resultRange = envelope.result {
            // Response phase. A result that cannot be read cannot be judged, so it does not go back.
            guard let result = rewritten ?? (try? JSONValue.parse(raw, range: resultRange)) else {
                return refuse(
                    request.agentID, request.subject,
                    "persona-shim withheld the answer of \(server.name) to \(request.exposedName): it is not valid JSON, so the persona's checks could not read it.",
                    code: JSONRPCError.requestFailed)
            }
            let subject = PolicySubject(
                kind: request.subject.policyKind, exposedName: request.exposedName, server: server.name,
                name: request.exposedName)
            switch policy.judgeResponse(subject, result: result) {
            case .pass: break
            case .rewrite(let value): rewritten = value
            case .refuse(let decision):
                return refuse(
                    request.agentID, request.subject,
                    "persona-shim withheld the answer to \(request.exposedName) under the persona \"\(persona.name)\": \(decision.reason) (rule \(decision.rule)).",
                    code: JSONRPCError.requestFailed)
            }
        }
        if agentEra == .modern, request.method == "resources/read", let resultRange = envelope.result {
            rewritten = (rewritten ?? (try? JSONValue.parse(raw, range: resultRange))).map(ModernResult.cacheHinted)
        }
        if let rewritten {
            sendToAgent(Message.response(id: request.agentID, result: rewritten))
        } else if !agentGone {
            let replacements = answerReplacements(envelope, raw, id: (idRange, request.agentID))
            agentOutput.sendLine(from: reader, range: range, replacing: replacements)
        }
    }

    /// The rewritten result, or nil when the server's bytes can go to the agent as they are.
    private func rewriteResult(
        _ request: ForwardedRequest, _ server: Server, _ raw: UnsafeRawBufferPointer, _ resultRange: Range<Int>,
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
                        item["uri"] = .string(uris.expose(uri, server: server.index))
                        return .object(item)
                    })
                result = .object(object)
            }
        case "tools/call":
            result = downgrade.toolResult(uris.exposeContent(result, server: server.index))
        default:
            result = downgrade.promptResult(uris.exposeContent(result, server: server.index))
        }
        return result
    }

    private func contains(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ needle: String) -> Bool {
        let bytes = Array(needle.utf8)
        return bytes.withUnsafeBytes { needleBytes in
            ps_memmem(raw.baseAddress! + range.lowerBound, range.count, needleBytes.baseAddress!, bytes.count) != nil
        }
    }

    private func serverFanOutPage(
        _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, fanOutID: Int, page: Int
    ) {
        guard var fanOut = routes.fanOuts[fanOutID] else { return }
        let result = envelope.result.flatMap { try? JSONValue.parse(raw, range: $0) }
        let items = result?[fanOut.key]?.arrayValue?.compactMap(\.objectValue) ?? []
        fanOut.items[server.index, default: []].append(contentsOf: items)
        if let cursor = result?["nextCursor"]?.stringValue, page + 1 < Self.maximumPages {
            routes.fanOuts[fanOutID] = fanOut
            requestFanOutPage(fanOutID, server: server.index, cursor: cursor, page: page + 1)
            return
        }
        fanOut.waiting.remove(server.index)
        routes.fanOuts[fanOutID] = fanOut
        completeFanOutIfDone(fanOutID)
    }

    /// What makes a well-formed envelope still unusable: no `"jsonrpc": "2.0"`, or an error that is not an object
    /// with an integer `code` and a string `message`.
    static func fault(in envelope: MessageEnvelope, _ raw: UnsafeRawBufferPointer) -> String? {
        guard envelope.hasVersion else { return #"it does not say "jsonrpc": "2.0""# }
        guard let error = envelope.error else { return nil }
        let members = MessageEnvelope.members(raw, object: error, named: ["code", "message"])
        guard let code = members[0], JSONReader.integer(raw, code) != nil else {
            return "its error has no integer code"
        }
        guard let message = members[1], raw[message.lowerBound] == UInt8(ascii: "\"") else {
            return "its error has no message text"
        }
        return nil
    }

    /// A server's line could not be used. If it answers something the shim waits for (its id was readable), that
    /// request is settled now with a well-formed error instead of waiting for its timeout: every request gets
    /// exactly one answer, and never a malformed one.
    private func malformedAnswer(_ server: Server, id: Int?, reason: String) {
        guard let id, let request = routes.pending[id], request.server == server.index else { return }
        switch request {
        case .forward(let forwarded):
            routes.finish(id)
            failForward(
                forwarded, outcome: "malformed_response", code: JSONRPCError.internalError,
                "The server \(server.name) sent a malformed answer to \(forwarded.exposedName) (\(reason)); persona-shim did not pass it on"
            )
        case .initialize:
            routes.pending[id] = nil
            serverFailed(server, reason: "answered initialize with a malformed message (\(reason))", restartable: false)
        case .discover:
            // Not a modern answer, so a legacy server (or, after a refused handshake, no server the shim can speak to).
            routes.pending[id] = nil
            if let refusal = server.handshakeRefusal {
                serverFailed(
                    server, reason: "\(refusal), and answered server/discover with a malformed message",
                    restartable: false)
            } else {
                sendInitialize(server)
            }
        case .list(_, let key, let page, let generation):
            routes.pending[id] = nil
            guard generation == server.listGeneration[key] else { return }
            serverListPage(server, nil, MessageEnvelope(kind: .response, hasVersion: true), key: key, page: page)
        case .fanOutPage(let fanOutID, _, _):
            routes.pending[id] = nil
            routes.fanOuts[fanOutID]?.waiting.remove(server.index)
            completeFanOutIfDone(fanOutID)
        case .internalRequest:
            routes.pending[id] = nil
        }
    }

    /// A request or notification of the server's that cannot be used. Its id is from the server's own numbering, so it
    /// settles nothing the shim asked even when the numbers match; a request hears why, as JSON-RPC asks.
    private func refuseMalformedRequest(_ server: Server, id: [UInt8]?, reason: String) {
        guard let id else { return }
        server.input.append(
            Message.error(
                id: id, code: JSONRPCError.invalidRequest,
                message: "Invalid Request: persona-shim could not use this request (\(reason))"))
    }

    /// Server `index` sent a line longer than the shim accepts; it was discarded as it streamed in, keeping only
    /// its first bytes. The request it answered fails now rather than at its timeout; if its id cannot be read,
    /// the server is restarted, which fails every request it holds (one of them was owed that answer).
    func serverLineTooLong(_ index: Int, bytes: Int, prefix: [UInt8]) {
        let server = servers[index]
        let reason = "its message of \(bytes) bytes exceeds the limit of \(configuration.serverLineLimit) bytes"
        logger.warning("[\(server.name)] discarded a message: \(reason)")
        let (id, idBytes, meantAsRequest) = prefix.withUnsafeBytes { raw in
            let range = MessageEnvelope.salvageID(raw, range: 0..<raw.count)
            return (
                range.flatMap { JSONReader.integer(raw, $0) }, range.map { Array(raw[$0]) },
                MessageEnvelope.salvageHasMethod(raw, range: 0..<raw.count)
            )
        }
        if meantAsRequest { return refuseMalformedRequest(server, id: idBytes, reason: reason) }
        if let id, routes.pending[id] != nil {
            return malformedAnswer(server, id: id, reason: reason)
        }
        if routes.pending.values.contains(where: { $0.server == index }) {
            serverFailed(
                server, reason: "sent an answer that could not be matched to its request (\(reason))", restartable: true
            )
        }
    }
}
