/// A legacy agent's request to a modern server that needs input: the server's `input_required` becomes the old
/// server-to-client requests (`elicitation/create`, `sampling/createMessage`, `roots/list`) sent to the agent under
/// the shim's ids, each judged by the persona's `serverRequests` rules and the agent's declared capabilities and
/// audited as a server request; once the agent answered them all, the shim retries the original request with the
/// answers (`inputResponses`) and the server's `requestState`, which the agent never sees.
struct InputExchange {
    var request: ForwardedRequest
    /// The request's params as the server first got them.
    var params: JSONObject
    var state: JSONValue?
    var waiting: Set<String>
    var answers = JSONObject()
    /// When the original request is given up if the agent has not answered every question: its call timeout,
    /// counted again from the moment the agent is asked (as for a legacy server's own questions, which its
    /// request's timeout covers).
    var deadline: UInt64
}

extension SessionCore {
    /// The params of a forwarded line, with the forward's replacements applied.
    static func params(_ request: AgentRequest, replacing replacements: [(Range<Int>, [UInt8])]) -> JSONObject? {
        var line: [UInt8] = []
        var position = request.range.lowerBound
        for (target, replacement) in replacements {
            line.append(contentsOf: request.raw[position..<target.lowerBound])
            line.append(contentsOf: replacement)
            position = target.upperBound
        }
        line.append(contentsOf: request.raw[position..<request.range.upperBound])
        return (try? JSONValue(parsing: String(decoding: line, as: UTF8.self)))?["params"]?.objectValue
    }

    /// Asks a legacy agent what a modern server needs. Returns false when this request cannot be handled so (the
    /// caller refuses it); true when it was handled, refused here with a reason, or the agent was asked.
    func askLegacyAgent(
        _ request: ForwardedRequest, _ server: Server, _ raw: UnsafeRawBufferPointer, result resultRange: Range<Int>
    ) -> Bool {
        guard agentEra == .legacy, let params = request.retryParams,
            case .object(let result)? = try? JSONValue.parse(raw, range: resultRange)
        else { return false }
        let inputs = result["inputRequests"]?.objectValue ?? JSONObject()
        func refuseInput(_ sentence: String, outcome: String = "input_refused") -> Bool {
            if request.subject == .tool, calls != nil { callAnswered(failed: true) }
            refuseForward(request, outcome: outcome, code: JSONRPCError.requestFailed, sentence)
            return true
        }
        for (_, input) in inputs.members {
            let method = input["method"]?.stringValue ?? "(no method)"
            guard let (capability, permission) = Self.agentBoundMethods[method] else {
                return refuseInput(
                    "The server \(server.name) asked for \(method) to answer \(request.exposedName), which MCP does not define; the request did not complete."
                )
            }
            guard persona.serverRequests[keyPath: permission] else {
                recordRefusedServerRequest(server, method, capability: capability)
                return refuseInput(
                    "The server \(server.name) asked for \(method) to answer \(request.exposedName), which the persona \"\(persona.name)\" does not allow servers to use; the request did not complete."
                )
            }
            guard agentCapabilities[capability] != nil else {
                return refuseInput(
                    "The server \(server.name) asked for \(method) to answer \(request.exposedName), and the client did not declare \"\(capability)\"; the request did not complete."
                )
            }
            let params = input["params"]?.objectValue ?? JSONObject()
            if let lacking = missingClientFeature(method, params, capabilities: agentCapabilities) {
                return refuseInput(
                    "The server \(server.name) asked for \(method) to answer \(request.exposedName), which the client cannot take (\(lacking)); the request did not complete."
                )
            }
        }
        do {
            for (_, input) in inputs.members {
                let method = input["method"]!.stringValue!
                try recordServerRequest(
                    server, method, capability: Self.agentBoundMethods[method]!.0, decision: "allow")
            }
        } catch {
            return refuseInput(
                "persona-shim did not pass on the questions of \(server.name) because it could not write the audit record (\(error.reason))."
            )
        }
        let exchangeID = routes.allocateID()
        exchanges[exchangeID] = InputExchange(
            request: request, params: params, state: result["requestState"], waiting: Set(inputs.keys),
            deadline: now + nanoseconds(persona.timeouts.callSeconds))
        guard !inputs.isEmpty else {
            retryExchange(exchangeID)
            return true
        }
        for (key, input) in inputs.members {
            let method = input["method"]!.stringValue!
            let inputParams = Self.markedQuestion(method, input["params"]?.objectValue ?? JSONObject(), of: server)
            let shimID = routes.allocateID()
            routes.agentBound[shimID] = AgentBoundRequest(
                server: server.index, serverID: [], method: method, exchange: (exchangeID, key))
            sendToAgent(
                Message.request(
                    id: shimID, method: method,
                    params: inputParams.isEmpty ? nil : masked(.object(inputParams), request)))
        }
        return true
    }

    /// The agent answered one of an exchange's questions.
    func exchangeAnswered(_ id: Int, key: String, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard var exchange = exchanges[id] else { return }
        guard let resultRange = envelope.result, let answer = try? JSONValue.parse(raw, range: resultRange) else {
            exchanges[id] = nil
            let request = exchange.request
            if request.subject == .tool, calls != nil { callAnswered(failed: true) }
            return refuseForward(
                request, outcome: "input_refused", code: JSONRPCError.requestFailed,
                "The client did not answer what the server \(servers[request.server].name) asked to answer \(request.exposedName); the request did not complete."
            )
        }
        exchange.answers[key] = answer
        exchange.waiting.remove(key)
        exchanges[id] = exchange
        if exchange.waiting.isEmpty { retryExchange(id) }
    }

    /// Gives up the exchanges whose agent did not answer in time: the original request is answered with a timeout,
    /// and the agent is told to stop asking the person.
    func expireExchanges() {
        for (id, exchange) in exchanges where exchange.deadline <= now {
            exchanges[id] = nil
            let request = exchange.request
            for (shimID, asked) in routes.agentBound where asked.exchange?.id == id {
                routes.agentBound[shimID] = nil
                sendToAgent(
                    Message.notification(
                        method: "notifications/cancelled",
                        params: ["requestId": .integer(shimID), "reason": "persona-shim: the question timed out"]))
            }
            if request.subject == .tool, calls != nil { callAnswered(failed: true) }
            failForward(
                request, outcome: "timeout", code: JSONRPCError.requestTimeout,
                "The client did not answer what the server \(servers[request.server].name) asked to answer \(request.exposedName) within \(formatSeconds(persona.timeouts.callSeconds)) seconds; the request did not complete."
            )
        }
    }

    /// Sends the original request again, with the answers and the server's state, as one more forward of it.
    private func retryExchange(_ id: Int) {
        guard let exchange = exchanges.removeValue(forKey: id) else { return }
        let original = exchange.request
        let server = servers[original.server]
        guard server.phase == .ready, server.inputOpen, !agentGone else {
            recordOutcome(original, outcome: "child_exited")
            if original.subject == .tool, calls != nil { callAnswered(failed: true) }
            return refuse(
                original.agentID, original.subject,
                "The server \(server.name) is not running, so \(original.exposedName) cannot be completed now.",
                code: JSONRPCError.requestFailed)
        }
        var params = exchange.params
        params["inputResponses"] = .object(exchange.answers)
        params["requestState"] = exchange.state
        if case .object(var meta)? = params["_meta"] {
            meta["progressToken"] = nil
            params["_meta"] = .object(meta)
        }
        let retry = ForwardedRequest(
            agentID: original.agentID, server: original.server, method: original.method, subject: original.subject,
            exposedName: original.exposedName, recordedSubject: original.recordedSubject,
            argsDigest: original.argsDigest, started: original.started,
            deadline: now + nanoseconds(persona.timeouts.callSeconds), progressToken: nil)
        retry.retryParams = exchange.params
        let shimID = routes.allocateID()
        routes.addForward(retry, id: shimID, agentToken: nil)
        server.input.append(Message.request(id: shimID, method: original.method, params: .object(params)))
    }
}
