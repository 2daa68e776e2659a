/// Requests from servers to the agent's client (sampling, elicitation, roots): allowed by the persona, possible for
/// the client as it declared itself, audited write-ahead, and relayed under the shim's own id.
extension SessionCore {
    static let agentBoundMethods = [
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
        var params = envelope.params.flatMap { try? JSONValue.parse(raw, range: $0) }?.objectValue ?? JSONObject()
        if let missing = missingClientFeature(method, params) {
            return server.input.append(
                Message.error(
                    id: id, code: JSONRPCError.invalidParams,
                    message: "The client cannot take this \(method): \(missing)"))
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
        guard method == "elicitation/create" else {
            return agentOutput.appendLine(raw, range: range, replacing: [(idRange, JSONWriter.integerText(shimID))])
        }
        // A person reads an elicitation: it says which server asks, so no server can pass for the shim or another
        // server. A URL-mode one is remembered, so its completion can follow it.
        let message = params["message"]?.stringValue ?? ""
        params["message"] = .string("[server \"\(server.name)\" asks] " + message)
        if params["mode"]?.stringValue == "url", let elicitation = params["elicitationId"]?.stringValue {
            routes.urlElicitations[elicitation] = server.index
        }
        sendToAgent(Message.request(id: shimID, method: method, params: .object(params)))
    }

    /// What the client would need for this request but did not declare (the spec forbids sending it then).
    private func missingClientFeature(_ method: String, _ params: JSONObject) -> String? {
        switch method {
        case "elicitation/create" where params["mode"]?.stringValue == "url":
            guard agentProtocolVersion >= "2025-11-25" else {
                return
                    "URL-mode elicitation needs protocol revision 2025-11-25; the client speaks \(agentProtocolVersion)"
            }
            return agentCapabilities["elicitation"]?["url"] == nil
                ? #"it did not declare URL-mode elicitation ("elicitation": {"url": {}})"# : nil
        case "sampling/createMessage" where params["tools"] != nil:
            return agentCapabilities["sampling"]?["tools"] == nil
                ? #"it did not declare tool use in sampling ("sampling": {"tools": {}})"# : nil
        default:
            return nil
        }
    }

    func recordServerRequest(
        _ server: Server, _ method: String, capability: String, decision: String
    ) throws(AuditError) {
        try audit.record(
            .serverRequest,
            [
                ("server", .string(server.name)), ("method", .string(method)), ("decision", .string(decision)),
                ("rule", .string("serverRequests.\(capability)")),
            ])
    }

    /// A server says a URL-mode elicitation finished: passed on only for an elicitation that server started.
    func elicitationCompleted(_ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard let params = envelope.params,
            let idRange = MessageEnvelope.members(raw, object: params, named: ["elicitationId"])[0],
            case .string(let elicitation)? = try? JSONValue.parse(raw, range: idRange),
            routes.urlElicitations[elicitation] == server.index
        else {
            return logger.debug("[\(server.name)] dropped the completion of an elicitation it did not start")
        }
        routes.urlElicitations[elicitation] = nil
        sendToAgent(
            Message.notification(
                method: "notifications/elicitation/complete",
                params: .object(JSONObject([("elicitationId", .string(elicitation))]))))
    }

    /// A `URLElicitationRequiredError` (-32042) names elicitations the server will complete later: remember them.
    func noteRequiredElicitations(_ server: Server, _ raw: UnsafeRawBufferPointer, error: Range<Int>) {
        guard let value = try? JSONValue.parse(raw, range: error),
            case .array(let elicitations)? = value["data"]?["elicitations"]
        else { return }
        for case .string(let elicitation)? in elicitations.map({ $0["elicitationId"] }) {
            routes.urlElicitations[elicitation] = server.index
        }
    }
}
