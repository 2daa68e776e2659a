import Foundation

/// Messages from the agent.
extension ShimSession {
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
        case .response: logger.debug("ignored a response from the agent to a request the shim did not send")
        }
    }

    private func handleAgentRequest(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>) {
        let id = raw[envelope.id!]
        let method = envelope.method!
        switch method {
        case "initialize":
            handleInitialize(raw, envelope)
        case "ping":
            sendToAgent(Message.response(id: id, result: [:]))
        case "tools/list", "tools/call":
            guard agentInitialized else {
                sendToAgent(
                    Message.error(
                        id: id, code: JSONRPCError.invalidRequest,
                        message: "The session is not initialized: send initialize before \(method)"))
                return
            }
            guard startupComplete else {
                // Servers are still starting; answer once they are ready (bounded by the startup deadline).
                deferredAgentLines.append(Array(raw[range]))
                return
            }
            if method == "tools/list" {
                var response = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
                response.append(contentsOf: id)
                response.append(contentsOf: #","result":"#.utf8)
                response.append(contentsOf: toolsListResult)
                response.append(contentsOf: "}\n".utf8)
                sendToAgent(response)
            } else {
                handleToolCall(raw, envelope, range)
            }
        default:
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message: "Method not found: \(method) (persona-shim does not serve it)"))
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
            let agentID = Array(raw[requestRange])
            // A request still waiting for the servers to start is simply dropped: nobody has seen it yet.
            deferredAgentLines.removeAll { line in
                line.withUnsafeBytes { bytes in
                    guard let envelope = try? MessageEnvelope.scan(bytes, range: 0..<line.count), let id = envelope.id
                    else { return false }
                    return bytes[id].elementsEqual(agentID)
                }
            }
            guard
                let (shimID, call) = pending.lazy.compactMap({ entry -> (Int, ForwardedCall)? in
                    if case .call(let call) = entry.value, call.agentID == agentID { return (entry.key, call) }
                    return nil
                }).first
            else { return }
            pending[shimID] = nil
            var cancel = JSONObject([("requestId", .integer(shimID))])
            if let reasonRange = MessageEnvelope.members(raw, object: params, named: ["reason"])[0],
                let reason = try? JSONValue.parse(raw, range: reasonRange)
            {
                cancel["reason"] = reason
            }
            let child = children[call.server]
            child.input.append(Message.notification(method: "notifications/cancelled", params: .object(cancel)))
            recordOutcome(call, outcome: "cancelled", extra: [])
        default:
            break
        }
    }

    private func handleInitialize(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        let id = raw[envelope.id!]
        guard !agentInitialized else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidRequest,
                    message: "Invalid Request: the session is already initialized"))
            return
        }
        let params = envelope.params.flatMap { try? JSONValue.parse(raw, range: $0) }
        agentProtocolVersion = MCPProtocol.negotiate(params?["protocolVersion"]?.stringValue)
        if let clientInfo = params?["clientInfo"], let name = clientInfo["name"]?.stringValue {
            audit.agent = AgentIdentity(name: name, version: clientInfo["version"]?.stringValue, source: "clientInfo")
        } else {
            audit.agent = AgentIdentity(name: "unknown", version: nil, source: "none")
        }
        agentInitialized = true
        startSession()
        let result: JSONValue = [
            "protocolVersion": .string(agentProtocolVersion),
            "capabilities": ["tools": ["listChanged": true]],
            "serverInfo": [
                "name": "persona-shim", "title": .string("persona-shim: \(persona.name)"),
                "version": .string(configuration.version),
            ],
            "instructions": .string(
                "Tools here are limited to the persona \"\(persona.name)\": \(persona.purpose) "
                    + "Calls outside this job are refused."),
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

    // MARK: tools/call

    private func handleToolCall(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>) {
        let idRange = envelope.id!
        let agentID = Array(raw[idRange])
        guard let params = envelope.params, raw[params.lowerBound] == UInt8(ascii: "{") else {
            sendToAgent(
                Message.error(
                    id: agentID, code: JSONRPCError.invalidParams, message: "tools/call needs params with a tool name"))
            return
        }
        let members = MessageEnvelope.members(raw, object: params, named: ["name", "arguments"])
        guard let nameRange = members[0], case .string(let name)? = try? JSONValue.parse(raw, range: nameRange) else {
            sendToAgent(
                Message.error(
                    id: agentID, code: JSONRPCError.invalidParams,
                    message: "tools/call needs params.name, the name of a tool"))
            return
        }
        var arguments: JSONValue?
        if let argumentsRange = members[1] {
            arguments = try? JSONValue.parse(raw, range: argumentsRange)
            guard case .object? = arguments else {
                sendToAgent(
                    Message.error(
                        id: agentID, code: JSONRPCError.invalidParams,
                        message: "tools/call params.arguments must be an object"))
                return
            }
        }
        let argsDigest = canonicalDigest(arguments ?? .object(JSONObject()))
        guard let entry = catalog.entry(named: name), entry.isVisible else {
            // A hidden tool must be indistinguishable from one that does not exist.
            let scope = catalog.entry(named: name)?.scope
            recordDecision(
                tool: name, server: catalog.entry(named: name)?.server, decision: "deny",
                rule: scope?.rule ?? "unknown-tool",
                reason: scope?.reason ?? "no server offers a tool named \(name)", argsDigest: argsDigest)
            sendToAgent(Message.error(id: agentID, code: JSONRPCError.invalidParams, message: "Unknown tool: \(name)"))
            return
        }
        let child = children[indexOfServer(entry.server)]
        let decision = callChain.evaluate(
            ToolCallContext(
                exposedName: name, server: entry.server, tool: entry.tool, arguments: arguments, now: Date()))
        guard decision.verdict == .allow else {
            let reason =
                decision.verdict == .ask
                ? decision.reason + "; it needs a person's approval, which this session cannot ask for"
                : decision.reason
            recordDecision(
                tool: name, server: entry.server, decision: "deny", rule: decision.rule, reason: reason,
                argsDigest: argsDigest)
            sendToAgent(
                Message.response(
                    id: agentID,
                    result: Message.toolError(
                        "persona-shim refused this call under the persona \"\(persona.name)\": \(reason) (rule \(decision.rule)). This action is outside the job this agent was deployed for."
                    )))
            return
        }
        guard child.phase == .ready, child.stdinFD >= 0 else {
            recordDecision(
                tool: name, server: entry.server, decision: "deny", rule: "server-unavailable",
                reason: "the server \(child.name) is not running", argsDigest: argsDigest)
            sendToAgent(
                Message.response(
                    id: agentID,
                    result: Message.toolError(
                        "The server \(child.name) is not running, so \(name) cannot be called now.")))
            return
        }
        do {
            // Write-ahead: the decision is on disk before the server sees the call.
            try audit.record(
                "call.decision",
                [
                    ("server", .string(entry.server)), ("tool", .string(name)), ("decision", "allow"),
                    ("rule", .string(decision.rule)), ("reason", .string(decision.reason)),
                    ("argsDigest", .string(argsDigest)),
                ])
        } catch {
            logger.error("\(error); refusing the call to \(name)")
            sendToAgent(
                Message.response(
                    id: agentID,
                    result: Message.toolError(
                        "persona-shim refused this call because it could not write the audit record (\(error.reason)). The call was not forwarded. Ask the user to fix the audit file \(audit.path)."
                    )))
            return
        }
        let shimID = nextRequestID
        nextRequestID += 1
        let now = monotonicNow()
        let deadline = now + nanoseconds(persona.timeouts.callSeconds)
        pending[shimID] = .call(
            ForwardedCall(
                agentID: agentID, server: child.index, exposedName: name, tool: entry.tool, argsDigest: argsDigest,
                started: now, deadline: deadline))
        callTimeouts.append((deadline, shimID))
        var toolName: [UInt8] = []
        JSONWriter.appendString(entry.tool, to: &toolName)
        let replacements = [(idRange, Array(String(shimID).utf8)), (nameRange, toolName)].sorted {
            $0.0.lowerBound < $1.0.lowerBound
        }
        child.input.appendLine(raw, range: range, replacing: replacements)
    }

    func indexOfServer(_ name: String) -> Int {
        children.firstIndex { $0.name == name } ?? 0
    }

    func recordDecision(
        tool: String, server: String?, decision: String, rule: String, reason: String, argsDigest: String
    ) {
        var fields: [(String, JSONValue)] = []
        if let server { fields.append(("server", .string(server))) }
        fields += [
            ("tool", .string(tool)), ("decision", .string(decision)), ("rule", .string(rule)),
            ("reason", .string(reason)), ("argsDigest", .string(argsDigest)),
        ]
        do {
            try audit.record("call.decision", fields)
        } catch {
            logger.error("\(error)")
        }
    }

    func recordOutcome(_ call: ForwardedCall, outcome: String, extra: [(String, JSONValue)]) {
        let duration = Double(monotonicNow() - call.started) / 1e6
        let fields: [(String, JSONValue)] =
            [
                ("server", .string(children[call.server].name)), ("tool", .string(call.exposedName)),
                ("outcome", .string(outcome)),
                ("durationMs", .number(formatMilliseconds(duration))), ("argsDigest", .string(call.argsDigest)),
            ] + extra
        do {
            try audit.record("call.outcome", fields)
        } catch {
            logger.error("\(error)")
        }
    }
}

/// Milliseconds with three decimals, without Foundation's formatter on the hot path.
func formatMilliseconds(_ milliseconds: Double) -> String {
    let micros = Int((milliseconds * 1000).rounded())
    let fraction = String(micros % 1000)
    return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
