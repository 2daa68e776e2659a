/// A legacy server's own `elicitation/create`, `sampling/createMessage` or `roots/list` while a modern agent waits:
/// the 2026-07-28 agent takes no server requests, so the shim holds the server's request and answers the agent's
/// request it belongs to with an `input_required` result whose `requestState` is a sealed ticket for it. The
/// agent's retry with `inputResponses` releases the answer to the server, and the server's answer to the original
/// request becomes the answer to the retry.
///
/// A server's request belongs to the one request of the agent's (`tools/call`, `prompts/get`, `resources/read`)
/// that server is working on; stdio carries no link between them, so when the server has none or several in hand,
/// its request is refused (see the README).
struct HeldServerRequest {
    var server: Int
    /// The server's id for its request, as it sent it.
    var serverID: [UInt8]
    var method: String
    /// The key the agent answers under in `inputResponses`.
    var key: String
    /// The shim's id for the request the server is working on (held as an internal request meanwhile).
    var forwardID: Int
    var request: ForwardedRequest
    /// When the server's request is refused if the agent has not retried.
    var deadline: UInt64
}

extension SessionCore {
    /// Handles a server's request for a modern agent: held and asked as `input_required`, or refused with a reason.
    func holdForModernAgent(
        _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, method: String,
        capability: String
    ) {
        let serverID = Array(raw[envelope.id!])
        func refuseServer(_ code: Int, _ message: String, audited: Bool = true) {
            if audited { recordRefusedServerRequest(server, method, capability: capability) }
            server.input.append(Message.error(id: serverID, code: code, message: message))
        }
        let candidates = routes.forwards {
            $0.server == server.index && Self.inputRequiredMethods.contains($0.method)
        }
        // A request whose question waits for the agent's retry is still in progress on the server too.
        let waiting = heldServerRequests.values.filter {
            guard $0.server == server.index, case .internalRequest? = routes.pending[$0.forwardID] else { return false }
            return true
        }.count
        guard candidates.count == 1, waiting == 0, let (forwardID, request) = candidates.first, !agentGone else {
            return refuseServer(
                JSONRPCError.requestFailed,
                "persona-shim could not tell which of the client's requests \(method) belongs to (\(candidates.count + waiting) in progress on this server); its client speaks \(MCPProtocol.latestModernVersion), where a server may ask only while it answers exactly one of the client's tools/call, prompts/get or resources/read requests"
            )
        }
        let declared = request.clientCapabilities ?? JSONObject()
        let params = envelope.params.flatMap { try? JSONValue.parse(raw, range: $0) }?.objectValue ?? JSONObject()
        guard declared[capability] != nil else {
            return refuseServer(
                JSONRPCError.methodNotFound,
                "The client does not support \(method) (its request did not declare \"\(capability)\")", audited: false
            )
        }
        if let missing = missingClientFeature(method, params, capabilities: declared) {
            return refuseServer(
                JSONRPCError.invalidParams, "The client cannot take this \(method): \(missing)", audited: false)
        }
        guard heldServerRequests.count < Self.heldLimit else {
            return refuseServer(
                JSONRPCError.requestFailed,
                "persona-shim already holds \(Self.heldLimit) questions of servers for the client; \(method) was refused"
            )
        }
        // Write-ahead: no record on file, no question for the agent.
        do {
            try recordServerRequest(server, method, capability: capability, decision: "allow")
        } catch {
            logger.error("refusing \(method) from \(server.name): \(error)")
            return refuseServer(
                JSONRPCError.internalError,
                "persona-shim refused \(method) because it could not write the audit record (\(error.reason)); it was not forwarded to the client",
                audited: false)
        }
        // The agent's request is answered now; the server's answer to it waits for the retry.
        routes.finish(forwardID)
        routes.pending[forwardID] = .internalRequest(server: server.index)
        let ticket = routes.allocateID()
        let key = "\(server.name)-\(ticket)"
        let lifetime = nanoseconds(persona.timeouts.callSeconds)
        heldServerRequests[ticket] = HeldServerRequest(
            server: server.index, serverID: serverID, method: method, key: key, forwardID: forwardID,
            request: request, deadline: now + lifetime)
        let binding = RequestStateSeal.Binding(
            server: server.name, method: request.method, name: request.exposedName,
            arguments: request.argsDigest?.bytes.hexString ?? "")
        var question = JSONObject([("method", .string(method))])
        let marked = Self.markedQuestion(method, params, of: server)
        if !marked.isEmpty { question["params"] = .object(marked) }
        let result = JSONObject([
            ("resultType", .string("input_required")),
            ("inputRequests", .object(JSONObject([(key, .object(question))]))),
            (
                "requestState",
                .string(requestStates.seal(.ticket(ticket), binding: binding, now: now, lifetime: lifetime))
            ),
        ])
        recordOutcome(request, outcome: "input_required")
        sendToAgent(Message.response(id: request.agentID, result: .object(result)), marked: true)
    }

    /// A modern agent's retry carrying the ticket of a held server request: the answer goes to the server, and
    /// the request the server is working on now answers this retry. Always handled here (nothing to forward).
    func releaseHeld(_ ticket: Int, _ request: AgentRequest, target: ForwardTarget, argsDigest: SHA256.Digest?) {
        guard let held = heldServerRequests.removeValue(forKey: ticket) else {
            return refuse(
                request.id, target.subject,
                "persona-shim no longer holds the question this retry answers (it timed out); send \(target.exposedName) again without requestState.",
                code: JSONRPCError.invalidParams)
        }
        let server = servers[held.server]
        guard case .internalRequest? = routes.pending[held.forwardID], server.isConnected else {
            if server.isConnected {
                server.input.append(
                    Message.error(
                        id: held.serverID, code: JSONRPCError.requestFailed,
                        message: "The request this question belongs to is no longer in progress"))
            }
            recordDecision(
                target.subject, target.exposedName, server: server.name, decision: "deny", rule: "requestState",
                reason: "the server no longer waits for the answer to its question", argsDigest: argsDigest)
            return refuse(
                request.id, target.subject,
                "The server \(server.name) no longer waits for this answer (it finished, gave up or restarted); send \(target.exposedName) again without requestState.",
                code: JSONRPCError.requestFailed)
        }
        let answers = inputResponses(request)
        let answer = answers?[held.key]
        do {
            audit.stage(.callDecision) { record in
                record.append(encoded: held.request.recordedSubject)
                record.add("decision", "allow")
                record.add("rule", "requestState")
                record.add("reason", "answers the question the server asked (\(held.method))")
                if let argsDigest { record.add("argsDigest", digest: argsDigest) }
            }
            try audit.flush()
        } catch {
            logger.error("refusing the answer to \(held.method) of \(server.name): \(error)")
            server.input.append(
                Message.error(
                    id: held.serverID, code: JSONRPCError.internalError,
                    message:
                        "persona-shim could not write the audit record (\(error.reason)); the answer was not passed on"
                ))
            routes.pending[held.forwardID] = nil
            return refuse(
                request.id, target.subject,
                "persona-shim did not pass this answer to \(server.name) because it could not write the audit record (\(error.reason)). Ask the user to fix the audit file \(audit.path).",
                code: JSONRPCError.internalError)
        }
        if let answer, case .object = answer {
            server.input.append(Message.response(id: held.serverID, result: answer))
        } else {
            server.input.append(
                Message.error(
                    id: held.serverID, code: JSONRPCError.requestFailed,
                    message: "The client retried without answering \(held.method)"))
        }
        let rebound = ForwardedRequest(
            agentID: request.id, server: held.server, method: held.request.method, subject: held.request.subject,
            exposedName: held.request.exposedName, recordedSubject: held.request.recordedSubject,
            argsDigest: held.request.argsDigest, started: now,
            deadline: now + nanoseconds(persona.timeouts.callSeconds), progressToken: nil)
        rebound.clientCapabilities = declaredCapabilities(request)
        routes.rebind(held.forwardID, to: rebound)
    }

    private func inputResponses(_ request: AgentRequest) -> JSONObject? {
        guard let params = request.envelope.params,
            let range = MessageEnvelope.members(request.raw, object: params, named: ["inputResponses"])[0]
        else { return nil }
        return request.value(range)?.objectValue
    }

    /// Refuses the held server requests whose agent did not retry in time.
    func expireHeldServerRequests() {
        for (ticket, held) in heldServerRequests where held.deadline <= now {
            heldServerRequests[ticket] = nil
            let server = servers[held.server]
            guard case .internalRequest? = routes.pending[held.forwardID] else { continue }
            if server.isConnected {
                server.input.append(
                    Message.error(
                        id: held.serverID, code: JSONRPCError.requestTimeout,
                        message:
                            "The client did not answer \(held.method) within \(formatSeconds(persona.timeouts.callSeconds)) seconds"
                    ))
            }
            // The server's answer to the original request has nobody to go to: dropped when it comes.
            if held.request.subject == .tool, calls != nil { callAnswered(failed: true) }
            recordOutcome(held.request, outcome: "input_abandoned")
        }
    }

    /// Server requests held at most at once; past it, new ones are refused.
    static let heldLimit = 1024
}
