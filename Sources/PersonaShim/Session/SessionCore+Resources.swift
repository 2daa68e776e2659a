/// Requests about resources, completions and logging: routed by URI or reference, or answered from every server.
extension SessionCore {
    func handleResourceRequest(_ request: AgentRequest) {
        guard let uriRange = request.params.uri, let uri = request.string(uriRange) else {
            return refuseParams(request, "\(request.method) needs params.uri")
        }
        let subject: RequestSubject = request.method == "resources/read" ? .resource : .subscription
        // The rule recorded is the one that decided: no server for the URI, no server offering resources, or the
        // persona's list-phase decision on it.
        let refusal: (rule: String, reason: String)?
        var target: (server: Int, original: String)?
        if let (server, original) = uris.resolve(uri) {
            if !servers[server].offers("resources") {
                refusal = ("unknown-resource", "the server \(servers[server].name) does not offer resources now")
            } else {
                let decision = policy.listDecision(resourceSubject(uri, server: server, original: original))
                refusal = decision.verdict == .allow ? nil : (decision.rule, decision.reason)
                target = (server, original)
            }
        } else {
            refusal = ("unknown-resource", "no server offers the resource \(uri)")
        }
        guard refusal == nil, let target else {
            recordDecision(
                subject, uri, server: nil, decision: "deny", rule: refusal?.rule ?? "unknown-resource",
                reason: refusal?.reason ?? "no server offers the resource \(uri)", argsDigest: nil)
            return sendToAgent(
                Message.error(
                    id: request.id, code: JSONRPCError.resourceNotFound, message: "Resource not found",
                    data: ["uri": .string(uri)]))
        }
        if subject == .subscription, servers[target.server].era == .modern {
            return subscribeOnModernServer(request, uri: uri, server: target.server, original: target.original)
        }
        if request.method == "resources/subscribe" { subscriptions.insert(uri) }
        if request.method == "resources/unsubscribe" { subscriptions.remove(uri) }
        var replacement: [UInt8] = []
        JSONWriter.appendString(target.original, to: &replacement)
        forward(
            request,
            target: ForwardTarget(
                subject: subject, exposedName: uri, server: target.server, originalName: target.original,
                replacing: (uriRange, replacement)),
            chain: policy.resourceRequest, argsDigest: nil)
    }

    func resourceSubject(_ exposed: String, server: Int, original: String) -> PolicySubject {
        PolicySubject(kind: .resource, exposedName: exposed, server: servers[server].name, name: original)
    }

    /// `resources/list` and `resources/templates/list`: every server's pages, merged into one.
    func startFanOut(_ request: AgentRequest) {
        let key = request.method == "resources/list" ? "resources" : "resourceTemplates"
        let offering = servers.filter { $0.offers("resources") }.map(\.index)
        let fanOutID = routes.allocateID()
        routes.fanOuts[fanOutID] = FanOut(
            agentID: request.id, method: request.method, key: key, waiting: Set(offering))
        for server in offering { requestFanOutPage(fanOutID, server: server, cursor: nil, page: 0) }
        completeFanOutIfDone(fanOutID)
    }

    func requestFanOutPage(_ fanOutID: Int, server: Int, cursor: String?, page: Int) {
        guard let fanOut = routes.fanOuts[fanOutID] else { return }
        let id = routes.allocateID()
        routes.pending[id] = .fanOutPage(fanOut: fanOutID, server: server, page: page)
        servers[server].input.append(request(to: servers[server], id: id, method: fanOut.method, cursor: cursor))
    }

    func completeFanOutIfDone(_ fanOutID: Int) {
        guard let fanOut = routes.fanOuts[fanOutID], fanOut.waiting.isEmpty else { return }
        routes.fanOuts[fanOutID] = nil
        var merged: [JSONValue] = []
        let uriKey = fanOut.key == "resources" ? "uri" : "uriTemplate"
        for server in servers.indices {
            for item in fanOut.items[server] ?? [] {
                guard let original = item[uriKey]?.stringValue else { continue }
                let exposed = uris.expose(original, server: server)
                guard policy.isVisible(resourceSubject(exposed, server: server, original: original)) else { continue }
                var item = downgrade.definition(item)
                item[uriKey] = .string(exposed)
                merged.append(.object(item))
            }
        }
        var result = JSONObject([(fanOut.key, .array(merged))])
        if agentEra == .modern {
            // Filtered by the persona: private to it.
            result = JSONObject([
                ("resultType", "complete"), (fanOut.key, .array(merged)),
                ("ttlMs", .integer(Self.listTTLMilliseconds)), ("cacheScope", "private"),
            ])
        }
        sendToAgent(Message.response(id: fanOut.agentID, result: .object(result)))
    }

    // MARK: completion/complete

    func handleCompletion(_ request: AgentRequest) {
        guard let refRange = request.params.ref, let ref = request.value(refRange),
            let type = ref["type"]?.stringValue
        else { return refuseParams(request, "completion/complete needs params.ref") }
        let members = MessageEnvelope.members(request.raw, object: refRange, named: ["name", "uri"])
        var target: (server: Int, original: String, exposed: String, range: Range<Int>)?
        if type == "ref/prompt", let name = ref["name"]?.stringValue, let nameRange = members[0],
            let entry = promptCatalog.entry(named: name), entry.isVisible
        {
            target = (indexOfServer(entry.server), entry.tool, name, nameRange)
        } else if type == "ref/resource", let uri = ref["uri"]?.stringValue, let uriRange = members[1],
            let (server, original) = uris.resolve(uri),
            policy.isVisible(resourceSubject(uri, server: server, original: original))
        {
            target = (server, original, uri, uriRange)
        }
        guard let target else {
            let what = ref["name"]?.stringValue ?? ref["uri"]?.stringValue ?? "?"
            return sendToAgent(
                Message.error(id: request.id, code: JSONRPCError.invalidParams, message: "Unknown reference: \(what)"))
        }
        guard servers[target.server].offers("completions") else {
            return sendToAgent(
                Message.response(id: request.id, result: ["completion": ["values": [], "hasMore": false]]))
        }
        var replacement: [UInt8] = []
        JSONWriter.appendString(target.original, to: &replacement)
        forward(
            request,
            target: ForwardTarget(
                subject: .completion, exposedName: target.exposed, server: target.server,
                originalName: target.original, replacing: (target.range, replacement)),
            chain: type == "ref/prompt" ? policy.promptRequest : policy.resourceRequest, argsDigest: nil,
            audited: false)
    }

    // MARK: logging/setLevel

    func handleSetLevel(_ request: AgentRequest) {
        guard let level = request.string(request.params.level), LogLevel(level) != nil else {
            return refuseParams(
                request, "logging/setLevel needs params.level, one of \(LogLevel.names.joined(separator: ", "))")
        }
        logLevel = level
        // Servers still listing their tools already told their capabilities; later ones get the level when they
        // answer initialize.
        for server in servers where server.isConnected && server.capabilities["logging"] != nil && server.era == .legacy
        {
            sendSetLevel(level, to: server)
        }
        sendToAgent(Message.response(id: request.id, result: [:]))
    }

    func sendSetLevel(_ level: String, to server: Server) {
        let id = routes.allocateID()
        routes.pending[id] = .internalRequest(server: server.index)
        server.input.append(Message.request(id: id, method: "logging/setLevel", params: ["level": .string(level)]))
    }
}
