/// Hot reload: a new version of the persona takes effect between two events, so every request is judged entirely
/// by one version. Requests already forwarded finish under the version that judged them (their answers too: see
/// `responsePolicy(for:)`); the next request meets the new one.
extension SessionCore {
    /// Swaps in `new` (already validated): policy, per-call rules (with the history of rules defined as before),
    /// servers (removed ones taken down, new ones started) and catalogs; the agent hears that its lists changed.
    func reload(to new: Persona) {
        let old = persona
        forgetRetiredPolicies()
        if routes.pending.values.contains(where: { if case .forward = $0 { true } else { false } }) {
            retiredPolicies[personaGeneration] = policy
        }
        refuseParkedCallsForReload()
        personaGeneration += 1
        configuration.persona = new
        policy = PolicyEngine(persona: new)
        calls = carriedOverCalls(new.callPolicy)
        masking = new.masking.map { masking?.reloaded(policy: $0) ?? SessionMasking(policy: $0) }
        let (added, removed) = reloadServers(new)
        var capabilities = JSONObject()
        for (capability, allowed) in [
            ("sampling", new.serverRequests.sampling), ("elicitation", new.serverRequests.elicitation),
            ("roots", new.serverRequests.roots),
        ] where allowed {
            if let value = agentCapabilities[capability] { capabilities[capability] = value }
        }
        serverClientCapabilities = capabilities
        rebuildCatalog()
        if old.resources.allow != new.resources.allow || old.resources.deny != new.resources.deny {
            announceListChange("resources")
        }
        logger.info(
            "the persona \"\(new.name)\" was reloaded (\(old.digest) → \(new.digest)); it applies from the next request"
        )
        audit.stage(.personaReload) { record in
            record.add("decision", "applied")
            record.add("oldDigest", old.digest)
            record.add("newDigest", new.digest)
            record.add(named: "serversAdded", .array(added.map(JSONValue.string)))
            record.add(named: "serversRemoved", .array(removed.map(JSONValue.string)))
        }
        commitAudit()
    }

    /// A changed persona file did not load: the persona in force stays, and the refusal is logged and audited.
    func reloadRejected(newDigest: String?, reason: String) {
        logger.error(
            "the persona file changed but the new version cannot be used, so the persona in force (\(persona.digest)) stays: \(reason)"
        )
        audit.stage(.personaReload) { record in
            record.add("decision", "rejected")
            record.add("oldDigest", persona.digest)
            if let newDigest { record.add("newDigest", newDigest) }
            record.add("reason", reason)
        }
        commitAudit()
    }

    /// The policy that judged `request`: the one in force, or the version before a reload that came meanwhile.
    func responsePolicy(for request: ForwardedRequest) -> PolicyEngine {
        guard request.personaGeneration != personaGeneration else { return policy }
        return retiredPolicies[request.personaGeneration] ?? policy
    }

    /// Forgets the policies no request in flight was judged by any more.
    func forgetRetiredPolicies() {
        guard !retiredPolicies.isEmpty else { return }
        var inUse = Set<Int>()
        for case .forward(let forwarded) in routes.pending.values { inUse.insert(forwarded.personaGeneration) }
        retiredPolicies = retiredPolicies.filter { inUse.contains($0.key) }
    }

    /// A call waiting for a person's approval was judged by the version going out, and its question may no longer
    /// be the one the new version would ask: it is refused (the agent may call again), never released under the
    /// new version's limits.
    private func refuseParkedCallsForReload() {
        refuseEveryParkedCall(
            withdrawing: "persona-shim: the persona changed while the call waited",
            recorded: "the persona was reloaded before anyone answered",
            outcome: "the persona changed while it waited for an answer (the agent may call again)")
    }

    private func carriedOverCalls(_ policy: CallPolicy) -> CallRulesBox? {
        guard !policy.isEmpty else { return nil }
        var session = CallPolicySession(policy: policy, sharedLimits: configuration.sharedLimits)
        if let previous = calls { session.carryOver(from: previous.session) }
        return CallRulesBox(session)
    }

    /// Keeps servers whose entry is unchanged, retires the others and appends the new ones; before the session has
    /// started nothing runs yet, so the list is simply replaced. Returns the names added and removed.
    private func reloadServers(_ new: Persona) -> (added: [String], removed: [String]) {
        let home = Paths.home(configuration.environment)
        func resolver(_ spec: ServerSpec) -> PathResolver {
            PathResolver(
                fileSystem: configuration.fileSystem, home: home,
                workingDirectory: spec.command.workingDirectory ?? configuration.workingDirectory)
        }
        let live = servers.filter { !$0.retired }
        let removed = live.filter { server in !new.servers.contains(server.spec) }
        let added = new.servers.filter { spec in !live.contains { $0.spec == spec } }
        guard sessionStarted else {
            servers = new.servers.enumerated().map { Server(spec: $1, index: $0) }
            paths = new.servers.map(resolver)
            uris = ResourceURIs(servers: new.servers.map(\.name))
            return (added.map(\.name), removed.map(\.name))
        }
        for server in removed {
            server.retired = true
            server.restartAt = nil
            server.stoppedByShim = true
            if server.phase == .failed || server.phase == .gone {
                if server.isRunning { perform(.stop(server: server.index)) }
            } else {
                serverFailed(server, reason: "was removed from the persona", restartable: false)
            }
        }
        for spec in added {
            let server = Server(spec: spec, index: servers.count)
            servers.append(server)
            paths.append(resolver(spec))
            perform(.start(server: server.index))
        }
        // Retired servers keep their place (indexes in flight stay valid) under a prefix no URI can name.
        let names = servers.map { $0.retired ? "\u{0}retired" : $0.name }
        uris = ResourceURIs(servers: names, prefixed: servers.count > 1)
        return (added.map(\.name), removed.map(\.name))
    }
}

extension ResourceURIs {
    init(servers: [String], prefixed: Bool) {
        self.prefixes = servers.map { $0.hasPrefix("\u{0}") ? $0 : Self.prefix($0) }
        self.prefixed = prefixed
    }
}
