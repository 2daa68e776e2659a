import Platform

/// Logging across the eras. A 2026-07-28 agent asks for a request's log lines with `io.modelcontextprotocol/logLevel`
/// in that request's `_meta`; a legacy agent sets one level for the session with `logging/setLevel`.
///
/// - Modern agent, legacy server: the server is set (`logging/setLevel`) to the level of the request it is sent, when
///   that differs from the level it was last set to; its `notifications/message` reach the agent only while one of
///   the agent's requests to it that asked for log lines is in progress, and only at or above that request's level
///   (stdio carries no link from a log line to its request, so the most verbose such request decides).
/// - Modern agent, modern server: the request's level goes to the server in the shim's `_meta`, and the same rule
///   passes its log lines on.
/// - Legacy agent, modern server: the session's level goes to the server in every request's `_meta`.
extension SessionCore {
    static let logLevelKey = "io.modelcontextprotocol/logLevel"
    static let logLevelKeyBytes = Array(logLevelKey.utf8)

    /// Whether `needle`'s bytes occur in `range` of `raw`: a scan far cheaper than reading members, so a request
    /// that does not use a feature pays only this for it.
    static func mentions(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ needle: [UInt8]) -> Bool {
        needle.withUnsafeBytes { needleBytes in
            ps_memmem(raw.baseAddress! + range.lowerBound, range.count, needleBytes.baseAddress!, needle.count) != nil
        }
    }

    /// The log level a modern agent's request asks for (nil when it asks for none or names no level), having set a
    /// legacy server that offers logging to it first.
    func requestedLogLevel(_ request: AgentRequest, to server: Server) -> LogLevel? {
        guard agentEra == .modern, let range = request.envelope.metaLogLevel(request.raw),
            let name = request.string(range), let level = LogLevel(name)
        else { return nil }
        let set = legacyServerLevels[server.index]
        // A restarted process starts at its own default level, so it is set again.
        if server.era == .legacy, server.capabilities["logging"] != nil,
            set?.level != name || set?.process != server.startedAt
        {
            legacyServerLevels[server.index] = (name, server.startedAt)
            sendSetLevel(name, to: server)
        }
        return level
    }

    /// The level a modern server is told for a forwarded request: the modern agent's own for it, or the legacy
    /// agent's session level.
    func serverLogLevel(agentMeta: JSONObject?) -> JSONValue? {
        if agentEra == .modern {
            guard case .string(let name)? = agentMeta?[Self.logLevelKey], LogLevel(name) != nil else { return nil }
            return .string(name)
        }
        return logLevel.map(JSONValue.string)
    }

    /// Whether a server's log line at `level` may reach a modern agent: one of its requests to that server in
    /// progress asked for lines at that level or below.
    func modernAgentWantsLog(from server: Server, level: LogLevel?) -> Bool {
        guard let level else { return false }
        return !routes.forwards { $0.server == server.index && ($0.logLevel.map { $0 <= level } ?? false) }.isEmpty
    }
}
