/// The two eras of MCP, as the specification names them: `legacy` revisions open a session with `initialize`
/// (2025-11-25 and earlier); `modern` ones (2026-07-28) carry the protocol version and the client's capabilities in
/// every request's `_meta` and have no handshake.
enum ProtocolEra: String, Sendable {
    case legacy
    case modern
}

/// The agent's era. One agent speaks one era per session: its first `initialize` makes the session legacy, its first
/// valid request carrying `io.modelcontextprotocol/protocolVersion` makes it modern, and from then on a request of
/// the other era is refused (-32600) rather than guessed at. `server/discover` is answered in either era and decides
/// nothing: it reads nothing from the session and changes nothing in it.
extension SessionCore {
    /// Methods the shim serves to a modern agent; the rest of what it serves (`logging/setLevel`,
    /// `resources/subscribe`, `resources/unsubscribe`, `ping`) is gone from 2026-07-28.
    static func servesModern(_ method: String) -> Bool {
        switch method {
        case "tools/call", "tools/list", "prompts/list", "prompts/get", "resources/list", "resources/templates/list",
            "resources/read", "completion/complete", "subscriptions/listen":
            true
        default: false
        }
    }

    /// How long a modern agent may keep a list the shim answered. The lists change only when a server's own list
    /// changes (or a server restarts), and a modern agent hears of no change, so the hint is short.
    static let listTTLMilliseconds = 10_000

    /// The revision the shim offers legacy servers during their handshake: the agent's own for a legacy agent, the
    /// newest handshake revision for a modern one.
    var handshakeVersion: String { agentEra == .modern ? MCPProtocol.latestVersion : agentProtocolVersion }

    /// Whether `envelope`'s `_meta` carries `io.modelcontextprotocol/protocolVersion`. Only requests that have a
    /// `_meta` pay for the look.
    func carriesModernVersion(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) -> Bool {
        guard let meta = envelope.requestParams.meta, raw[meta.lowerBound] == UInt8(ascii: "{") else { return false }
        return envelope.modernMetaMembers(raw)?[0] != nil
    }

    /// Checks a request of a modern agent (or the first one, which makes the session modern). Returns false when
    /// the request was answered here with an error.
    func admitModernRequest(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, method: String) -> Bool {
        let id = raw[envelope.id!]
        guard agentEra != .legacy else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidRequest,
                    message:
                        "Invalid Request: this session began with initialize, so it speaks the handshake revision \(agentProtocolVersion); a request carrying \(MCPProtocol.protocolVersionKey) belongs to the stateless revisions and is refused. Start a new session to speak \(MCPProtocol.latestModernVersion)."
                ))
            return false
        }
        guard let meta = validModernMeta(raw, envelope, id: id) else { return false }
        // Most agents declare nothing, or the same few capabilities on every request: read only what differs.
        currentCapabilities = declaredCapabilities(raw, meta.capabilities)
        let unchanged =
            audit.agent != nil
            && (meta.clientInfo.map { Self.same(lastClientInfo, raw, $0) } ?? (lastClientInfo == nil))
        if !unchanged {
            lastClientInfo = meta.clientInfo.map { Array(raw[$0]) }
            noteClientInfo(meta.clientInfo.flatMap { try? JSONValue.parse(raw, range: $0) })
        }
        if agentEra == nil {
            agentEra = .modern
            agentProtocolVersion = meta.version
            downgrade = VersionDowngrade(version: agentProtocolVersion)
            agentInitialized = true
            logger.debug("the agent speaks \(agentProtocolVersion) (stateless); the session starts without a handshake")
            startSession()
        }
        guard Self.servesModern(method) else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message: "Method not found: \(method) (persona-shim does not serve it in \(agentProtocolVersion))"))
            return false
        }
        return true
    }

    /// The request's `_meta` when it says a stateless revision the shim speaks and declares the client's
    /// capabilities; otherwise the agent is answered (-32602 for a missing field, -32022 for another revision) and
    /// the result is nil.
    func validModernMeta(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, id: some Collection<UInt8>) -> (
        version: String, capabilities: Range<Int>, clientInfo: Range<Int>?
    )? {
        if let meta = envelope.requestParams.meta, let last = lastModernMeta, Self.same(last.bytes, raw, meta) {
            let start = meta.lowerBound
            return (
                last.version, start + last.capabilities.lowerBound..<start + last.capabilities.upperBound,
                last.clientInfo.map { start + $0.lowerBound..<start + $0.upperBound }
            )
        }
        let members = envelope.modernMetaMembers(raw)
        let versionRange = members?[0]
        var versionReader = versionRange.map { JSONReader(raw, range: $0) }
        let version =
            versionRange.flatMap { raw[$0.lowerBound] == UInt8(ascii: "\"") ? try? versionReader?.parseString() : nil }
        guard let version else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidParams,
                    message:
                        "Invalid params: this session speaks \(MCPProtocol.latestModernVersion), so every request must carry the protocol version as a string in _meta \"\(MCPProtocol.protocolVersionKey)\"."
                ))
            return nil
        }
        guard MCPProtocol.modernVersions.contains(version) else {
            let hint =
                MCPProtocol.supportedVersions.contains(version)
                ? " \(version) is a handshake revision: send initialize, without this _meta, to use it."
                : ""
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.unsupportedProtocolVersion,
                    message:
                        "Unsupported protocol version: persona-shim serves requests of \(MCPProtocol.modernVersions.joined(separator: ", ")) without a handshake.\(hint)",
                    data: [
                        "supported": .array(MCPProtocol.modernVersions.map(JSONValue.string)),
                        "requested": .string(version),
                    ]))
            return nil
        }
        guard let capabilities = members?[1], raw[capabilities.lowerBound] == UInt8(ascii: "{") else {
            sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidParams,
                    message:
                        "Invalid params: every \(version) request must declare the client's capabilities as an object in _meta \"\(MCPProtocol.clientCapabilitiesKey)\"."
                ))
            return nil
        }
        if let meta = envelope.requestParams.meta {
            let start = meta.lowerBound
            lastModernMeta = ModernMetaMemo(
                Array(raw[meta]), version, capabilities.lowerBound - start..<capabilities.upperBound - start,
                members?[2].map { $0.lowerBound - start..<$0.upperBound - start }
            )
        }
        return (version, capabilities, members?[2])
    }

    /// Self-reported, per request in the stateless revisions: recorded as the agent's claim, never used for a
    /// decision. A request without it is recorded as from an unknown agent.
    func noteClientInfo(_ clientInfo: JSONValue?) {
        let identity =
            if let clientInfo, let name = clientInfo["name"]?.stringValue {
                AgentIdentity(name: name, version: clientInfo["version"]?.stringValue, source: "clientInfo")
            } else {
                AgentIdentity(name: "unknown", version: nil, source: "none")
            }
        if audit.agent != identity { audit.agent = identity }
    }

    /// Answers `server/discover` in either era: every revision the shim speaks, and what it can offer under this
    /// persona. The answer depends only on the persona, so it is the same before and after the servers start.
    func answerDiscover(_ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        let id = Array(raw[envelope.id!])
        // Without the stateless version it is a handshake-era request, and that era has no such method: an agent
        // probing for the stateless revisions always says which one it wants.
        guard carriesModernVersion(raw, envelope) else {
            return sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.methodNotFound,
                    message:
                        "Method not found: server/discover belongs to the stateless revisions, so it needs _meta \"\(MCPProtocol.protocolVersionKey)\"."
                ))
        }
        guard validModernMeta(raw, envelope, id: id) != nil else { return }
        var capabilities = JSONObject([("tools", [:])])
        if !persona.prompts.allow.isEmpty { capabilities["prompts"] = [:] }
        if !persona.resources.allow.isEmpty { capabilities["resources"] = [:] }
        capabilities["completions"] = [:]
        let result = JSONObject([
            ("resultType", "complete"),
            ("supportedVersions", .array(MCPProtocol.allVersions.map(JSONValue.string))),
            ("capabilities", .object(capabilities)),
            ("_meta", [MCPProtocol.serverInfoKey: .object(shimInfo)]),
            ("instructions", .string(instructions)),
            // What the persona allows is private to it: another persona's agent must not reuse this answer.
            ("ttlMs", .integer(Self.listTTLMilliseconds)),
            ("cacheScope", "private"),
        ])
        sendToAgent(Message.response(id: id, result: .object(result)))
    }

    var shimInfo: JSONObject {
        JSONObject([
            ("name", "persona-shim"), ("title", .string("persona-shim: \(persona.name)")),
            ("version", .string(configuration.version)),
        ])
    }

    var instructions: String {
        "Tools here are limited to the persona \"\(persona.name)\": \(persona.purpose) Calls outside this job are refused."
    }

    /// The head of a modern list answer: what goes before the list's own key.
    static let modernListHead = Array(
        #"{"resultType":"complete","ttlMs":\#(listTTLMilliseconds),"cacheScope":"private","#.utf8)
}
