/// Each server's era, found once per server process.
///
/// For a modern agent the shim probes with `server/discover` first (the specification's stdio backward-compatibility
/// rule): a `DiscoverResult` offering 2026-07-28 makes the server modern; any other answer, an error that is not a
/// modern one, or silence past a bounded wait makes it legacy, and it gets `initialize`.
///
/// For a legacy agent the order is the other way round: `initialize` first, and only a server that refuses it is
/// probed (a modern-only server). Probing first would turn every dual-era server (the Python SDK's, mcp-server-time,
/// mcp-server-git) modern for good — the SDK's server refuses `initialize` once it has answered a discover. Questions,
/// list changes, log lines and subscriptions are mapped across the eras now, but a dual-era server written the old
/// way (the Python SDK's `ctx.session.elicit` / `create_message` / `list_roots`) cannot ask anything once it speaks
/// 2026-07-28 ("no back-channel for server-initiated requests"); the interop suite's SDK server showed it. So a
/// legacy agent's dual-era servers speak the handshake, exactly as before; a modern-only server still serves it. The agent's era and each server's are independent: the shim speaks to every server in the
/// server's own.
extension SessionCore {
    /// How long a server may take to answer the probe: at most 2 seconds, and never more than half the
    /// handshake's own time limit (the whole handshake, probe included, stays within `initializeSeconds`).
    var probeTimeout: UInt64 { min(2_000_000_000, nanoseconds(persona.timeouts.initializeSeconds) / 2) }

    /// What the shim declares about itself on every request to a modern server: its version, no client
    /// capabilities (for its own requests, and for a legacy agent's: their input is not mapped), and its identity.
    var modernServerMeta: JSONObject { modernServerMeta(capabilities: JSONObject()) }

    /// The same, declaring `capabilities` (what a modern agent can answer in a multi round-trip request).
    func modernServerMeta(capabilities: JSONObject) -> JSONObject {
        JSONObject([
            (MCPProtocol.protocolVersionKey, .string(MCPProtocol.latestModernVersion)),
            (MCPProtocol.clientCapabilitiesKey, .object(capabilities)),
            (MCPProtocol.clientInfoKey, ["name": "persona-shim", "version": .string(configuration.version)]),
        ])
    }

    func probe(_ server: Server) {
        let id = routes.allocateID()
        routes.pending[id] = .discover(server: server.index)
        server.probe = (now + probeTimeout, id)
        server.input.append(
            Message.request(id: id, method: "server/discover", params: ["_meta": .object(modernServerMeta)]))
    }

    /// The server answered the probe.
    func serverDiscovered(_ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard server.phase == .initializing else { return }
        let answer = (envelope.result ?? envelope.error).flatMap { try? JSONValue.parse(raw, range: $0) }
        let isModern =
            envelope.result != nil
            && answer?["supportedVersions"]?.arrayValue?.contains(.string(MCPProtocol.latestModernVersion)) == true
        if server.probe == nil {
            // A late answer, after the shim fell back to initialize. A modern one wins (a slow dual-era server has
            // now settled on the stateless era and will refuse the handshake); any other changes nothing.
            guard isModern else { return }
            forgetPendingInitialize(of: server)
            logger.debug("[\(server.name)] answered server/discover late, as a modern server")
        }
        server.probe = nil
        if isModern, let answer {
            server.era = .modern
            server.protocolVersion = MCPProtocol.latestModernVersion
            server.serverInfo = answer["_meta"]?[MCPProtocol.serverInfoKey]
            server.capabilities = answer["capabilities"]?.objectValue ?? JSONObject()
            logger.debug("[\(server.name)] speaks \(MCPProtocol.latestModernVersion) (stateless)")
            return serverConnected(server)
        }
        if let refusal = server.handshakeRefusal {
            // It refused the handshake and is not modern either.
            return serverFailed(
                server, reason: "\(refusal), and did not answer server/discover as a modern server", restartable: false)
        }
        // A modern server that speaks none of the shim's stateless revisions: the specification says not to fall
        // back, unless it also speaks a handshake revision the shim does.
        let offered =
            envelope.result != nil
            ? answer?["supportedVersions"]?.arrayValue
            : answer?["code"]?.intValue == JSONRPCError.unsupportedProtocolVersion
                ? answer?["data"]?["supported"]?.arrayValue : nil
        if let offered {
            let versions = offered.compactMap(\.stringValue)
            guard versions.contains(where: MCPProtocol.supportedVersions.contains) else {
                return serverFailed(
                    server,
                    reason:
                        "speaks only the protocol versions \(versions.joined(separator: ", ")), none of which persona-shim speaks",
                    restartable: false)
            }
        }
        sendInitialize(server)
    }

    /// Drops the shim's own `initialize` to `server`: its answer will not be waited for.
    func forgetPendingInitialize(of server: Server) {
        for (id, request) in routes.pending {
            if case .initialize(server.index) = request { routes.pending[id] = nil }
        }
    }

    /// A request the shim makes of its own (a list page) to `server`, in the server's era.
    func request(to server: Server, id: Int, method: String, cursor: String?) -> [UInt8] {
        var params = JSONObject()
        if let cursor { params["cursor"] = .string(cursor) }
        if server.era == .modern { params["_meta"] = .object(modernServerMeta) }
        return Message.request(id: id, method: method, params: params.isEmpty ? nil : .object(params))
    }

    /// The `_meta` a forwarded request carries to a server: the agent's own keys without those the specification
    /// reserves (the agent's version, capabilities and identity are not the server's business: the shim is its
    /// client), the shim's progress token in place of the agent's, and for a modern server the shim's own
    /// per-request fields.
    func serverMeta(_ request: AgentRequest, progressToken: Int?, era: ProtocolEra) -> [UInt8] {
        // Usually the agent's _meta holds only what the specification reserves and perhaps a progress token: a
        // legacy server then gets those bytes without any reading of the rest.
        if era == .legacy, request.params.meta != nil, !request.params.metaHasOtherKeys {
            return progressToken.map { Array(#"{"progressToken":\#($0)}"#.utf8) } ?? Self.emptyObjectBytes
        }
        var meta = request.value(request.params.meta)?.objectValue ?? JSONObject()
        let level = era == .modern ? serverLogLevel(agentMeta: meta) : nil
        meta.members.removeAll { $0.key.hasPrefix(MCPProtocol.reservedMetaPrefix) }
        // Only the shim's own token can be routed back; a token it did not see (an escaped key) is dropped.
        meta["progressToken"] = progressToken.map { .integer($0) }
        if era == .modern {
            meta.members.append(contentsOf: modernServerMeta(capabilities: relayedCapabilities(meta: request)).members)
            if let level { meta[Self.logLevelKey] = level }
        }
        return JSONWriter.encode(.object(meta))
    }

    /// The byte replacements that give a forwarded request the `_meta` its server needs, when the agent's or the
    /// server's era asks for any; `tokenReplaced` says whether they carry the progress token.
    func metaReplacements(_ request: AgentRequest, server: Server, progressToken: Int?) -> [(Range<Int>, [UInt8])] {
        guard agentEra == .modern || server.era == .modern else { return [] }
        if let metaRange = request.params.meta {
            return [(metaRange, serverMeta(request, progressToken: progressToken, era: server.era))]
        }
        guard server.era == .modern, let params = request.envelope.params,
            request.raw[params.lowerBound] == UInt8(ascii: "{")
        else { return [] }
        var inserted = Array(#"{"_meta":"#.utf8)
        inserted.append(contentsOf: serverMeta(request, progressToken: nil, era: .modern))
        if !isEmptyObject(request, params) { inserted.append(UInt8(ascii: ",")) }
        return [(params.lowerBound..<params.lowerBound + 1, inserted)]
    }

    private func isEmptyObject(_ request: AgentRequest, _ range: Range<Int>) -> Bool {
        var next = range.lowerBound + 1
        while next < range.upperBound, [0x20, 0x09, 0x0A, 0x0D].contains(request.raw[next]) { next += 1 }
        return next < range.upperBound && request.raw[next] == UInt8(ascii: "}")
    }
}
