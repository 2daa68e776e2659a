#if canImport(Glibc)
    import Glibc
#endif

/// The agent's requests that reach a server: checked against the persona, audited, rewritten, forwarded.
extension ShimSession {
    // MARK: tools/call

    func handleToolCall(_ request: AgentRequest) {
        guard let name = request.string(request.params.name) else {
            return refuseParams(request, "tools/call needs params.name, the name of a tool")
        }
        if let arguments = request.params.arguments, request.raw[arguments.lowerBound] != UInt8(ascii: "{") {
            return refuseParams(request, "tools/call params.arguments must be an object")
        }
        routeByName(request, subject: .tool, name: name)
    }

    // MARK: prompts/get

    func handlePromptGet(_ request: AgentRequest) {
        guard let name = request.string(request.params.name) else {
            return refuseParams(request, "prompts/get needs params.name, the name of a prompt")
        }
        routeByName(request, subject: .prompt, name: name)
    }

    /// Forwards a tool call or prompt request to the server behind the exposed `name`, under its own name.
    /// A hidden name answers exactly like one that does not exist: `-32602 Unknown tool: NAME`.
    private func routeByName(_ request: AgentRequest, subject: RequestSubject, name: String) {
        let argsDigest: SHA256.Digest
        do {
            argsDigest = try CanonicalJSON.digest(request.raw, request.params.arguments)
        } catch {
            return refuseParams(request, "\(request.method) params.arguments is not acceptable: \(error.message)")
        }
        let index = subject == .tool ? catalog.index(named: name) : promptCatalog.index(named: name)
        let recorded = index.flatMap { recordedEntry(subject, $0, method: request.method) }
        guard let recorded, recorded.isVisible else {
            let kind = subject == .tool ? "tool" : "prompt"
            recordDecision(
                subject, name, server: recorded?.server, decision: "deny",
                rule: recorded?.known?.rule ?? "unknown-\(kind)",
                reason: recorded?.known?.reason ?? "no server offers a \(kind) named \(name)", argsDigest: argsDigest)
            return sendToAgent(
                Message.error(
                    id: request.id, code: JSONRPCError.invalidParams, message: "Unknown \(kind): \(name)"))
        }
        // The scope decision was made once, for the catalog; only the call-time checks run per request.
        forward(
            request, subject: subject, exposedName: name, server: recorded.serverIndex, chain: callTimeChain,
            originalName: recorded.tool, argsDigest: argsDigest,
            replacing: (request.params.name!, recorded.originalName), aliases: recorded.aliases,
            known: recorded.known, recorded: recorded)
    }

    /// What every request for catalog entry `index` shares, made on its first request and kept until the catalogs
    /// are rebuilt; nil if there is no such entry.
    private func recordedEntry(_ subject: RequestSubject, _ index: Int, method: String) -> RecordedEntry? {
        func cached(_ entries: inout [RecordedEntry?], _ catalog: ToolCatalog) -> RecordedEntry? {
            if index < entries.count, let recorded = entries[index] { return recorded }
            guard index < catalog.entries.count else { return nil }
            let entry = catalog.entries[index]
            var originalName: [UInt8] = []
            JSONWriter.appendString(entry.tool, to: &originalName)
            let recorded = RecordedEntry(
                server: entry.server, serverIndex: indexOfServer(entry.server), method: method, subject: subject,
                name: entry.exposedName, tool: entry.tool, originalName: originalName, known: entry.scope,
                aliases: entry.naturalName == entry.exposedName ? [] : [entry.naturalName])
            if entries.count <= index { entries += Array(repeating: nil, count: index + 1 - entries.count) }
            entries[index] = recorded
            return recorded
        }
        return subject == .tool ? cached(&recordedTools, catalog) : cached(&recordedPrompts, promptCatalog)
    }

    // MARK: resources

    func handleResourceRequest(_ request: AgentRequest) {
        guard let uriRange = request.params.uri, let uri = request.string(uriRange) else {
            return refuseParams(request, "\(request.method) needs params.uri")
        }
        let subject: RequestSubject = request.method == "resources/read" ? .resource : .subscription
        guard let (server, original) = uris.resolve(uri), children[server].offers("resources"),
            resourceVisibility.evaluate(context(uri, server: server, original: original)).verdict == .allow
        else {
            let decision = resourceVisibility.evaluate(
                ToolCallContext(exposedName: uri, server: "", tool: uri, arguments: nil, now: .now))
            recordDecision(
                subject, uri, server: nil, decision: "deny",
                rule: uris.resolve(uri) == nil ? "unknown-resource" : decision.rule,
                reason: uris.resolve(uri) == nil ? "no server offers the resource \(uri)" : decision.reason,
                argsDigest: nil)
            return sendToAgent(
                Message.error(
                    id: request.id, code: JSONRPCError.resourceNotFound, message: "Resource not found",
                    data: ["uri": .string(uri)]))
        }
        if request.method == "resources/subscribe" { subscriptions.insert(uri) }
        if request.method == "resources/unsubscribe" { subscriptions.remove(uri) }
        var replacement: [UInt8] = []
        JSONWriter.appendString(original, to: &replacement)
        forward(
            request, subject: subject, exposedName: uri, server: server, chain: resourceChain, originalName: original,
            argsDigest: nil, replacing: (uriRange, replacement))
    }

    /// `resources/list` and `resources/templates/list`: every server's pages, merged into one.
    func startFanOut(_ request: AgentRequest) {
        let key = request.method == "resources/list" ? "resources" : "resourceTemplates"
        let servers = children.filter { $0.offers("resources") }.map(\.index)
        let fanOutID = nextRequestID
        nextRequestID += 1
        fanOuts[fanOutID] = FanOut(agentID: request.id, method: request.method, key: key, waiting: Set(servers))
        for server in servers { requestFanOutPage(fanOutID, server: server, cursor: nil, page: 0) }
        completeFanOutIfDone(fanOutID)
    }

    func requestFanOutPage(_ fanOutID: Int, server: Int, cursor: String?, page: Int) {
        guard let fanOut = fanOuts[fanOutID] else { return }
        let id = nextRequestID
        nextRequestID += 1
        pending[id] = .fanOutPage(fanOut: fanOutID, server: server, page: page)
        children[server].input.append(
            Message.request(id: id, method: fanOut.method, params: cursor.map { ["cursor": .string($0)] }))
    }

    func completeFanOutIfDone(_ fanOutID: Int) {
        guard let fanOut = fanOuts[fanOutID], fanOut.waiting.isEmpty else { return }
        fanOuts[fanOutID] = nil
        var merged: [JSONValue] = []
        let uriKey = fanOut.key == "resources" ? "uri" : "uriTemplate"
        for server in children.indices {
            for item in fanOut.items[server] ?? [] {
                guard let original = item[uriKey]?.stringValue else { continue }
                let exposed = uris.expose(original, server: server)
                guard
                    resourceVisibility.evaluate(context(exposed, server: server, original: original)).verdict == .allow
                else { continue }
                var item = downgrade.definition(item)
                item[uriKey] = .string(exposed)
                merged.append(.object(item))
            }
        }
        sendToAgent(Message.response(id: fanOut.agentID, result: .object(JSONObject([(fanOut.key, .array(merged))]))))
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
            resourceVisibility.evaluate(context(uri, server: server, original: original)).verdict == .allow
        {
            target = (server, original, uri, uriRange)
        }
        guard let target else {
            let what = ref["name"]?.stringValue ?? ref["uri"]?.stringValue ?? "?"
            return sendToAgent(
                Message.error(id: request.id, code: JSONRPCError.invalidParams, message: "Unknown reference: \(what)"))
        }
        guard children[target.server].offers("completions") else {
            return sendToAgent(
                Message.response(id: request.id, result: ["completion": ["values": [], "hasMore": false]]))
        }
        var replacement: [UInt8] = []
        JSONWriter.appendString(target.original, to: &replacement)
        let chain = type == "ref/prompt" ? promptChain : resourceChain
        forward(
            request, subject: .completion, exposedName: target.exposed, server: target.server, chain: chain,
            originalName: target.original, argsDigest: nil, replacing: (target.range, replacement), audited: false)
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
        for child in children
        where (child.phase == .listing || child.phase == .ready) && child.capabilities["logging"] != nil {
            let id = nextRequestID
            nextRequestID += 1
            pending[id] = .internalRequest(server: child.index)
            child.input.append(Message.request(id: id, method: "logging/setLevel", params: ["level": .string(level)]))
        }
        sendToAgent(Message.response(id: request.id, result: [:]))
    }

    // MARK: Forwarding

    /// Judges, audits (write-ahead) and forwards one request, replacing its id and the given ranges.
    func forward(
        _ request: AgentRequest, subject: RequestSubject, exposedName: String, server: Int, chain: PolicyChain,
        originalName: String, argsDigest: SHA256.Digest?, replacing target: (Range<Int>, [UInt8]), audited: Bool = true,
        aliases: [String] = [], known: PolicyDecision? = nil, recorded: RecordedEntry? = nil
    ) {
        let child = children[server]
        let decision = chain.evaluate(known: known) {
            // Arguments are parsed only for a chain with a check that reads them.
            let arguments =
                chain.readsArguments ? request.value(request.params.arguments) ?? .object(JSONObject()) : nil
            return ToolCallContext(
                exposedName: exposedName, server: child.name, tool: originalName, arguments: arguments, now: .now,
                aliases: aliases)
        }
        guard decision.verdict == .allow else {
            let reason =
                decision.verdict == .ask
                ? decision.reason + "; it needs a person's approval, which this session cannot ask for"
                : decision.reason
            recordDecision(
                subject, exposedName, server: child.name, decision: "deny", rule: decision.rule, reason: reason,
                argsDigest: argsDigest)
            let sentence =
                "persona-shim refused this request under the persona \"\(persona.name)\": \(reason) (rule \(decision.rule)). This action is outside the job this agent was deployed for."
            return refuse(request.id, subject, sentence, code: JSONRPCError.requestFailed)
        }
        guard child.phase == .ready, child.stdinFD >= 0 else {
            recordDecision(
                subject, exposedName, server: child.name, decision: "deny", rule: "server-unavailable",
                reason: "the server \(child.name) is not running", argsDigest: argsDigest)
            let sentence = "The server \(child.name) is not running, so \(exposedName) cannot be reached now."
            return refuse(request.id, subject, sentence, code: JSONRPCError.requestFailed)
        }
        // Write-ahead: the decision is staged now and written, with the rest of this read's decisions, before any
        // byte of the request can reach the server (`commitAudit`); if it cannot be written, the request is taken
        // back and refused.
        let entry =
            recorded
            ?? RecordedEntry(
                server: child.name, serverIndex: server, method: request.method, subject: subject, name: exposedName,
                tool: originalName)
        let sequence =
            audited
            ? audit.stage("call.decision") { record in
                record.append(encoded: entry.subject)
                if let allow = entry.allow, decision.rule == known?.rule {
                    record.append(encoded: allow)
                } else {
                    record.add("decision", "allow")
                    record.add("rule", decision.rule)
                    record.add("reason", decision.reason)
                }
                if let argsDigest { record.add("argsDigest", digest: argsDigest) }
            } : nil
        let shimID = nextRequestID
        nextRequestID += 1
        let now = monotonicNow()
        var replacements = [target, (request.envelope.id!, JSONWriter.integerText(shimID))]
        var progressToken: Int?
        if let tokenRange = request.params.progressToken {
            let token = nextRequestID
            nextRequestID += 1
            progressToken = token
            progressRoutes[token] = (Array(request.raw[tokenRange]), shimID)
            replacements.append((tokenRange, JSONWriter.integerText(token)))
        }
        replacements.sort { $0.0.lowerBound < $1.0.lowerBound }
        let deadline = now + nanoseconds(persona.timeouts.callSeconds)
        pending[shimID] = .forward(
            ForwardedRequest(
                agentID: request.id, server: server, method: request.method, subject: subject,
                exposedName: exposedName, recordedSubject: entry.subject, argsDigest: argsDigest, started: now,
                deadline: deadline, progressToken: progressToken))
        callTimeouts.append((deadline, shimID))
        let queuedFrom = child.input.queuedTotal
        child.input.appendLine(request.raw, range: request.range, replacing: replacements)
        if let sequence {
            uncommitted.append(
                UncommittedForward(
                    shimID: shimID, server: server, sequence: sequence, bytes: queuedFrom..<child.input.queuedTotal))
        }
        child.forwardsSinceFlush += 1
        if child.forwardsSinceFlush >= Self.releaseGroup { flushChild(child) }
    }

    /// Answers a refused request: a tool call gets a tool result with `isError` (the model reads it and can tell
    /// the person); other requests get a JSON-RPC error with `code`.
    func refuse(_ agentID: [UInt8], _ subject: RequestSubject, _ sentence: String, code: Int) {
        if subject == .tool {
            sendToAgent(Message.response(id: agentID, result: Message.toolError(sentence)))
        } else {
            sendToAgent(Message.error(id: agentID, code: code, message: sentence))
        }
    }

    /// Forgets a forwarded request and its progress token.
    func finishRequest(_ shimID: Int) {
        if case .forward(let request)? = pending.removeValue(forKey: shimID), let token = request.progressToken {
            progressRoutes[token] = nil
        }
    }

    private func refuseParams(_ request: AgentRequest, _ message: String) {
        sendToAgent(Message.error(id: request.id, code: JSONRPCError.invalidParams, message: message))
    }

    private func context(_ exposed: String, server: Int, original: String) -> ToolCallContext {
        ToolCallContext(
            exposedName: exposed, server: children[server].name, tool: original, arguments: nil, now: .now)
    }

    func indexOfServer(_ name: String) -> Int {
        children.firstIndex { $0.name == name } ?? 0
    }

    /// Stages a decision that forwards nothing (a refusal); it is written at the end of the read it came in.
    func recordDecision(
        _ subject: RequestSubject, _ name: String, server: String?, decision: String, rule: String, reason: String,
        argsDigest: SHA256.Digest?
    ) {
        audit.stage("call.decision") { record in
            if let server { record.add("server", server) }
            record.add(subject.auditField, name)
            record.add("decision", decision)
            record.add("rule", rule)
            record.add("reason", reason)
            if let argsDigest { record.add("argsDigest", digest: argsDigest) }
        }
    }

    /// Stages the outcome of a forwarded request. Nothing waits on it being on disk: it goes out with the next
    /// write (at the latest when the session has been idle for `auditBatchWindow`), which saves a write per call.
    func recordOutcome(_ request: ForwardedRequest, outcome: String, errorCode: [UInt8]? = nil) {
        guard request.subject != .completion else { return }
        let elapsed = monotonicNow() - request.started
        audit.stage("call.outcome") { record in
            record.append(encoded: request.recordedSubject)
            record.add("outcome", outcome)
            record.add("durationMs", millisecondsFromNanoseconds: elapsed)
            if let argsDigest = request.argsDigest { record.add("argsDigest", digest: argsDigest) }
            if let errorCode { record.add("errorCode", json: errorCode) }
        }
    }
}

/// MCP logging levels, in increasing severity (RFC 5424 order).
struct LogLevel: Comparable {
    static let names = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
    let rank: Int

    init?(_ name: String) {
        guard let rank = Self.names.firstIndex(of: name) else { return nil }
        self.rank = rank
    }

    static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Milliseconds with three decimals, without Foundation's formatter on the hot path.
func formatMilliseconds(_ milliseconds: Double) -> String {
    let micros = Int((milliseconds * 1000).rounded())
    let fraction = String(micros % 1000)
    return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
