/// `subscriptions/listen`, the stateless revisions' way to hear of changes, on both sides of the shim.
///
/// Towards a modern agent: a listen is acknowledged with the list changes the shim will report (tools always,
/// prompts and resources when the persona allows some), and each later change is sent once per listen that asked for
/// it, tagged with the listen's id. Its `resourceSubscriptions` are judged one by one and the granted ones
/// acknowledged (`ResourceSubscriptions`). A listen ends when the agent cancels it.
///
/// Towards a modern server: once it is ready the shim opens one listen for its list changes, which then reach the
/// shim as a legacy server's would (and so reach the agent, in its own era).
extension SessionCore {
    func handleListen(_ request: AgentRequest) {
        let asked = request.envelope.params.flatMap {
            MessageEnvelope.members(request.raw, object: $0, named: ["notifications"])[0]
        }
        let filter = request.value(asked)?.objectValue ?? JSONObject()
        var granted = JSONObject()
        var lists: Set<String> = []
        for (key, list, allowed) in [
            ("toolsListChanged", "tools", true), ("promptsListChanged", "prompts", !persona.prompts.allow.isEmpty),
            ("resourcesListChanged", "resources", !persona.resources.allow.isEmpty),
        ] where filter[key] == .bool(true) && allowed {
            granted[key] = true
            lists.insert(list)
        }
        if let asked = filter["resourceSubscriptions"], !persona.resources.allow.isEmpty {
            let resources = grantedResourceSubscriptions(asked)
            // None granted: left out, as the specification says for what a server does not support.
            if !resources.isEmpty { granted["resourceSubscriptions"] = .array(resources.map(JSONValue.string)) }
            listenResources[request.id] = resources.isEmpty ? nil : resources
        } else {
            listenResources[request.id] = nil
        }
        let value = (try? JSONValue.parse(request.raw, range: request.envelope.id!)) ?? .null
        listens.removeAll { $0.id == request.id }
        listens.append((request.id, value, lists))
        reconcileSubscriptions()
        // A listen counts as having seen the lists: changes from now on are worth announcing.
        if startupComplete { catalogPublished = true }
        sendToAgent(
            Message.notification(
                method: "notifications/subscriptions/acknowledged",
                params: ["_meta": [MCPProtocol.subscriptionIDKey: value], "notifications": .object(granted)]))
    }

    /// Opens the shim's own listen on a modern server for its list changes and the resources the agent wants to
    /// hear about; a listen already open is cancelled first (its filter cannot change).
    func listenForChanges(_ server: Server) {
        if let old = serverListens[server.index]?.id, routes.pending[old] != nil {
            routes.pending[old] = nil
            server.input.append(
                Message.notification(method: "notifications/cancelled", params: ["requestId": .integer(old)]))
        }
        let id = routes.allocateID()
        routes.pending[id] = .internalRequest(server: server.index)
        let resources = wantedSubscriptions()[server.index] ?? []
        serverListens[server.index] = (id, resources)
        var notifications: JSONValue = [
            "toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true,
        ]
        if !resources.isEmpty {
            notifications = [
                "toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true,
                "resourceSubscriptions": .array(resources.sorted().map(JSONValue.string)),
            ]
        }
        server.input.append(
            Message.request(
                id: id, method: "subscriptions/listen",
                params: ["notifications": notifications, "_meta": .object(modernServerMeta)]))
    }
}
