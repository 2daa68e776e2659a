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
            recordRefusedServerRequest(server, method, capability: capability)
            return server.input.append(
                Message.error(
                    id: id, code: JSONRPCError.requestFailed,
                    message: "The persona \"\(persona.name)\" does not allow servers to use \(method)"))
        }
        if agentEra == .modern {
            return holdForModernAgent(server, raw, envelope, method: method, capability: capability)
        }
        guard agentCapabilities[capability] != nil, agentInitialized, !agentGone else {
            return server.input.append(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message: "The client does not support \(method) (it did not declare \"\(capability)\")"))
        }
        let params = envelope.params.flatMap { try? JSONValue.parse(raw, range: $0) }?.objectValue ?? JSONObject()
        if let missing = missingClientFeature(method, params, capabilities: agentCapabilities) {
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
        sendToAgent(Message.request(id: shimID, method: method, params: markElicitation(params, of: server)))
    }

    /// A person reads an elicitation: it says which server asks, so no server can pass for the shim or another
    /// server. Used for a server's questions on every path (its own requests and its `input_required` results).
    static func markedQuestion(_ method: String, _ params: JSONObject, of server: Server) -> JSONObject {
        guard method == "elicitation/create" else { return params }
        var params = params
        params["message"] = .string("[server \"\(server.name)\" asks] " + (params["message"]?.stringValue ?? ""))
        return params
    }

    /// As `markedQuestion`; a URL-mode one is also remembered, so its completion can follow it.
    private func markElicitation(_ elicitation: JSONObject, of server: Server) -> JSONValue {
        var elicitation = elicitation
        let message = elicitation["message"]?.stringValue ?? ""
        elicitation["message"] = .string("[server \"\(server.name)\" asks] " + message)
        if elicitation["mode"]?.stringValue == "url", let id = elicitation["elicitationId"]?.stringValue {
            elicitation["elicitationId"] = .string(routes.urlElicitations.expose(id, server: server.index))
        }
        return .object(elicitation)
    }

    /// What the client would need for this request but did not declare (the spec forbids sending it then):
    /// `capabilities` are the session's (legacy agent) or the request's (modern agent).
    func missingClientFeature(_ method: String, _ params: JSONObject, capabilities agentCapabilities: JSONObject)
        -> String?
    {
        switch method {
        case "elicitation/create" where params["mode"]?.stringValue == "url":
            guard agentProtocolVersion >= "2025-11-25" else {
                return
                    "URL-mode elicitation needs protocol revision 2025-11-25; the client speaks \(agentProtocolVersion)"
            }
            return agentCapabilities["elicitation"]?["url"] == nil
                ? #"it did not declare URL-mode elicitation ("elicitation": {"url": {}})"# : nil
        case "elicitation/create":
            // An empty "elicitation" object means form mode, for clients older than the modes; naming modes
            // without "form" rules it out.
            let declared = agentCapabilities["elicitation"]?.objectValue ?? JSONObject()
            return declared.isEmpty || declared["form"] != nil
                ? nil : #"it did not declare form-mode elicitation ("elicitation": {"form": {}})"#
        case "sampling/createMessage" where params["tools"] != nil:
            return agentCapabilities["sampling"]?["tools"] == nil
                ? #"it did not declare tool use in sampling ("sampling": {"tools": {}})"# : nil
        default:
            return nil
        }
    }

    /// A refusal forwards nothing, so a record that cannot be written stops nothing more: it is logged.
    func recordRefusedServerRequest(_ server: Server, _ method: String, capability: String) {
        do {
            try recordServerRequest(server, method, capability: capability, decision: "deny")
        } catch {
            logger.error("\(error)")
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
        guard agentCapabilities["elicitation"]?["url"] != nil, let params = envelope.params,
            let idRange = MessageEnvelope.members(raw, object: params, named: ["elicitationId"])[0],
            case .string(let elicitation)? = try? JSONValue.parse(raw, range: idRange),
            let exposed = routes.urlElicitations.complete(elicitation, server: server.index)
        else {
            return logger.debug("[\(server.name)] dropped the completion of an elicitation it did not start")
        }
        sendToAgent(
            Message.notification(
                method: "notifications/elicitation/complete",
                params: .object(JSONObject([("elicitationId", .string(exposed))]))))
    }

    /// A `URLElicitationRequiredError` (-32042) names elicitations for a person to open, which the server completes
    /// later: the agent gets them marked and remembered like the ones a server requests. Nil when the error names
    /// none, and the server's bytes can go as they are.
    func requiredElicitationsError(
        _ server: Server, _ raw: UnsafeRawBufferPointer, error: Range<Int>, agentID: [UInt8]
    ) -> [UInt8]? {
        guard case .object(var object)? = try? JSONValue.parse(raw, range: error),
            case .object(var data)? = object["data"], case .array(let elicitations)? = data["elicitations"]
        else { return nil }
        data["elicitations"] = .array(
            elicitations.map { item in item.objectValue.map { markElicitation($0, of: server) } ?? item })
        object["data"] = .object(data)
        return Message.error(
            id: agentID, code: object["code"]?.intValue ?? -32042, message: object["message"]?.stringValue ?? "",
            data: object["data"])
    }
}
