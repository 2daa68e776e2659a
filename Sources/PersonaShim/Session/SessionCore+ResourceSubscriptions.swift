/// Resource subscriptions across the eras. The agent's side says which resources it wants to hear about: a legacy
/// agent with `resources/subscribe`, a modern one in the `resourceSubscriptions` of a `subscriptions/listen`. Each
/// server is asked in its own era: a legacy server with `resources/subscribe` / `resources/unsubscribe` (forwarded
/// as they are for a legacy agent; made by the shim for a modern agent's listens), a modern server through the
/// shim's own `subscriptions/listen` on it, opened again with the new list whenever the list changes.
///
/// Each URI is judged like a `resources/subscribe` (the persona must show the resource) and the decision is audited.
extension SessionCore {
    /// The URIs (as the agent sees them) of a modern agent's listen that were granted, judged and recorded one by one.
    func grantedResourceSubscriptions(_ asked: JSONValue?) -> [String] {
        guard case .array(let items)? = asked else { return [] }
        var granted: [String] = []
        for case .string(let uri) in items where !granted.contains(uri) {
            guard let (server, original) = uris.resolve(uri), servers[server].offers("resources"),
                servers[server].era == .modern || servers[server].capabilities["resources"]?["subscribe"] == true
            else {
                recordDecision(
                    .subscription, uri, server: nil, decision: "deny", rule: "unknown-resource",
                    reason: "no server offers subscriptions to the resource \(uri)", argsDigest: nil)
                continue
            }
            let subject = resourceSubject(uri, server: server, original: original)
            var decision = policy.listDecision(subject)
            if decision.verdict == .allow {
                decision = policy.resourceRequest.evaluate(known: nil) { PolicyRequest(subject, now: .now) }
            }
            guard decision.verdict == .allow else {
                recordDecision(
                    .subscription, uri, server: servers[server].name, decision: "deny", rule: decision.rule,
                    reason: decision.reason, argsDigest: nil)
                continue
            }
            recordDecision(
                .subscription, uri, server: servers[server].name, decision: "allow", rule: decision.rule,
                reason: decision.reason, argsDigest: nil)
            granted.append(uri)
        }
        return granted
    }

    /// A legacy agent's `resources/subscribe` or `resources/unsubscribe` of a resource on a modern server
    /// (already judged allowed): kept in the session and carried by the shim's listen on that server.
    func subscribeOnModernServer(_ request: AgentRequest, uri: String, server: Int, original: String) {
        let subject = resourceSubject(uri, server: server, original: original)
        let decision = policy.resourceRequest.evaluate(known: nil) { PolicyRequest(subject, now: .now) }
        recordDecision(
            .subscription, uri, server: servers[server].name, decision: decision.verdict == .allow ? "allow" : "deny",
            rule: decision.rule, reason: decision.reason, argsDigest: nil)
        guard decision.verdict == .allow else {
            return refuse(
                request.id, .subscription,
                "persona-shim refused this request under the persona \"\(persona.name)\": \(decision.reason) (rule \(decision.rule)).",
                code: JSONRPCError.requestFailed)
        }
        if request.method == "resources/subscribe" { subscriptions.insert(uri) } else { subscriptions.remove(uri) }
        reconcileSubscriptions()
        sendToAgent(Message.response(id: request.id, result: [:]))
    }

    /// The resources each server should report on: the original URIs of what the agent asked for, by server.
    func wantedSubscriptions() -> [Int: Set<String>] {
        var wanted: [Int: Set<String>] = [:]
        let exposed = agentEra == .modern ? Set(listenResources.values.joined()) : subscriptions
        for uri in exposed {
            guard let (server, original) = uris.resolve(uri) else { continue }
            wanted[server, default: []].insert(original)
        }
        return wanted
    }

    /// Brings every server's subscriptions in line with what the agent wants: a legacy server gets
    /// `resources/subscribe` / `unsubscribe` for a modern agent's changes; a modern server a new listen.
    func reconcileSubscriptions() {
        let wanted = wantedSubscriptions()
        for server in servers where server.phase == .ready && server.inputOpen {
            let want = wanted[server.index] ?? []
            if server.era == .modern {
                if want != (serverListens[server.index]?.resources ?? []) { listenForChanges(server) }
                continue
            }
            // A legacy agent subscribes on legacy servers itself; a restarted process has none of the old ones.
            guard agentEra == .modern else { continue }
            let had = shimSubscriptions[server.index].flatMap { $0.process == server.startedAt ? $0.uris : nil } ?? []
            for uri in want.subtracting(had).sorted() { sendInternal("resources/subscribe", uri: uri, to: server) }
            for uri in had.subtracting(want).sorted() { sendInternal("resources/unsubscribe", uri: uri, to: server) }
            shimSubscriptions[server.index] = (want, server.startedAt)
        }
    }

    private func sendInternal(_ method: String, uri: String, to server: Server) {
        let id = routes.allocateID()
        routes.pending[id] = .internalRequest(server: server.index)
        server.input.append(Message.request(id: id, method: method, params: ["uri": .string(uri)]))
    }

    /// A modern agent's listen ended: its resources are no longer wanted by it.
    func endListen(_ id: [UInt8]) {
        listens.removeAll { $0.id == id }
        guard listenResources.removeValue(forKey: id) != nil else { return }
        reconcileSubscriptions()
    }

    /// A server's `notifications/resources/updated`, for the agent if it asked for that resource: a legacy agent
    /// as it is, a modern agent once per listen that asked, tagged with the listen's id.
    func resourceUpdated(_ server: Server, _ raw: UnsafeRawBufferPointer, params: Range<Int>) {
        guard case .object(var object)? = try? JSONValue.parse(raw, range: params),
            case .string(let uri)? = object["uri"]
        else { return }
        let exposed = uris.expose(uri, server: server.index)
        object["uri"] = .string(exposed)
        // A modern server's subscription id names the shim's listen, not the agent's.
        if server.era == .modern { object["_meta"] = nil }
        guard agentEra == .modern else {
            guard subscriptions.contains(exposed) else { return }
            return sendToAgent(
                Message.notification(method: "notifications/resources/updated", params: .object(object)))
        }
        for listen in listens where listenResources[listen.id]?.contains(exposed) == true {
            var tagged = object
            tagged["_meta"] = [MCPProtocol.subscriptionIDKey: listen.value]
            sendToAgent(Message.notification(method: "notifications/resources/updated", params: .object(tagged)))
        }
    }
}
