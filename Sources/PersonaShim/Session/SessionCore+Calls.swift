/// Tool calls and prompt requests: routed by name, judged (request phase), audited write-ahead, forwarded.
extension SessionCore {
    func handleToolCall(_ request: AgentRequest) {
        guard let name = request.string(request.params.name) else {
            return refuseParams(request, "tools/call needs params.name, the name of a tool")
        }
        if let arguments = request.params.arguments, request.raw[arguments.lowerBound] != UInt8(ascii: "{") {
            return refuseParams(request, "tools/call params.arguments must be an object")
        }
        routeByName(request, subject: .tool, name: name)
    }

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
            if subject == .tool { callProbed(name) }
            let kind = subject == .tool ? "tool" : "prompt"
            recordDecision(
                subject, name, server: recorded?.server, decision: "deny",
                rule: recorded?.known?.rule ?? "unknown-\(kind)",
                reason: recorded?.known?.reason ?? "no server offers a \(kind) named \(name)", argsDigest: argsDigest)
            return sendToAgent(
                Message.error(
                    id: request.id, code: JSONRPCError.invalidParams, message: "Unknown \(kind): \(name)"))
        }
        // The scope decision was made once, for the catalog; only the request-phase checks run per request.
        forward(
            request,
            target: ForwardTarget(
                subject: subject, exposedName: name, server: recorded.serverIndex, originalName: recorded.tool,
                replacing: (request.params.name!, recorded.originalName), aliases: recorded.aliases),
            chain: subject == .tool ? policy.toolRequest : policy.promptRequest, argsDigest: argsDigest,
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
                aliases: entry.naturalName == entry.exposedName ? [] : [entry.naturalName],
                callPolicy: subject == .tool
                    ? calls?.session.toolPolicy(
                        tool: entry.exposedName, server: entry.server, inputSchema: entry.definition["inputSchema"])
                    : nil)
            if entries.count <= index { entries += Array(repeating: nil, count: index + 1 - entries.count) }
            entries[index] = recorded
            return recorded
        }
        return subject == .tool ? cached(&recordedTools, catalog) : cached(&recordedPrompts, promptCatalog)
    }

    // MARK: Forwarding

    /// Judges (request phase), audits (write-ahead) and forwards one request, replacing its id and the target's
    /// range (the name or URI, as the server knows it).
    func forward(
        _ request: AgentRequest, target: ForwardTarget, chain: PolicyChain, argsDigest: SHA256.Digest?,
        audited: Bool = true, known: PolicyDecision? = nil, recorded: RecordedEntry? = nil,
        approved: ApprovedCall? = nil
    ) {
        if killSwitch != nil, refusedByKillSwitch(request, target, argsDigest: argsDigest) {
            // Even a call a person approved: the operator's stop comes after the approval.
            if let approved { calls?.session.notSent(approved.judgement) }
            return
        }
        let server = servers[target.server]
        let decision = chain.evaluate(known: known) {
            // Arguments are parsed only for a chain with a check that reads them.
            let arguments =
                chain.readsArguments ? request.value(request.params.arguments) ?? .object(JSONObject()) : nil
            return PolicyRequest(target.policySubject(server: server.name), arguments: arguments, now: .now)
        }
        // Request phase, second part: the per-call rules over the arguments and the session's history.
        var unenforced: PolicyDecision?
        var judgement: CallJudgement?
        if decision.verdict == .allow, let recorded, let toolPolicy = recorded.callPolicy {
            // A call a person approved was judged when it was parked, and counted then.
            let judged =
                approved?.judgement ?? judgeCall(request, toolPolicy, server: target.server, argsDigest: argsDigest)
            judgement = judged
            if approved == nil, case .ask = judged.decision, persona.mode == .enforce {
                return askApproval(
                    request, target, chain: chain, known: known, recorded: recorded, judgement: judged,
                    argsDigest: argsDigest)
            }
            if approved == nil, let refusal = judged.decision.policyDecision {
                guard persona.mode == .monitor else {
                    calls?.session.notSent(judged)
                    return refuseCall(request, target, server: server, refusal, argsDigest: argsDigest)
                }
                unenforced = refusal
            }
        }
        // A call a person approved was checked for secrets when it was parked: they saw the arguments.
        if approved == nil, decision.verdict == .allow, masking != nil,
            target.subject == .tool || target.subject == .prompt, let secret = outboundSecrets(request)
        {
            if persona.mode == .monitor {
                // Recorded as the would-be refusal or question (`enforced: false`); the call goes on.
                unenforced = unenforced ?? secret.policyDecision
            } else if case .ask = secret, let recorded {
                let asking = CallJudgement(
                    decision: secret, reservation: judgement?.reservation, drift: judgement?.drift, retryAt: nil)
                return askApproval(
                    request, target, chain: chain, known: known, recorded: recorded, judgement: asking,
                    argsDigest: argsDigest)
            } else if let refusal = secret.withoutApprovals.policyDecision {
                if let judgement { calls?.session.notSent(judgement) }
                return refuseCall(request, target, server: server, refusal, argsDigest: argsDigest)
            }
        }
        guard decision.verdict == .allow else {
            if let approved { calls?.session.notSent(approved.judgement) }
            let reason =
                decision.verdict == .ask
                ? decision.reason + "; it needs a person's approval, which this session cannot ask for"
                : decision.reason
            recordDecision(
                target.subject, target.exposedName, server: server.name, decision: "deny", rule: decision.rule,
                reason: reason, argsDigest: argsDigest)
            let sentence =
                "persona-shim refused this request under the persona \"\(persona.name)\": \(reason) (rule \(decision.rule)). This action is outside the job this agent was deployed for."
            return refuse(request.id, target.subject, sentence, code: JSONRPCError.requestFailed)
        }
        guard server.phase == .ready, server.inputOpen else {
            recordDecision(
                target.subject, target.exposedName, server: server.name, decision: "deny", rule: "server-unavailable",
                reason: "the server \(server.name) is not running", argsDigest: argsDigest)
            let sentence = "The server \(server.name) is not running, so \(target.exposedName) cannot be reached now."
            if let judgement { calls?.session.notSent(judgement) }
            return refuse(request.id, target.subject, sentence, code: JSONRPCError.requestFailed)
        }
        guard let stateReplacement = openRequestState(request, target: target, server: server, argsDigest: argsDigest)
        else {
            if let judgement { calls?.session.notSent(judgement) }
            return
        }
        if let toolPolicy = recorded?.callPolicy { calls?.session.sent(toolPolicy) }
        // Write-ahead: the decision is staged now and written, with the rest of this read's decisions, before any
        // byte of the request can reach the server (`output(for:)`); if it cannot be written, the request is
        // taken back and refused.
        let entry =
            recorded
            ?? RecordedEntry(
                server: server.name, serverIndex: target.server, method: request.method, subject: target.subject,
                name: target.exposedName, tool: target.originalName)
        let sequence =
            audited
            ? audit.stage(.callDecision) { record in
                record.append(encoded: entry.subject)
                if let approved {
                    record.add("decision", "allow")
                    record.add("rule", approved.question.rule)
                    record.add("reason", "approved by \(approved.by): \(approved.how)")
                    record.add("approval", approved.question.id)
                    record.add("approvedArgsDigest", approved.question.argumentsDigest)
                } else if let unenforced {
                    // Monitor mode: recorded exactly as a refusal (or a question) would be, and marked as not
                    // enforced.
                    record.add("decision", unenforced.verdict.rawValue)
                    record.add("rule", unenforced.rule)
                    record.add("reason", unenforced.reason)
                    record.add("enforced", json: Array("false".utf8))
                } else if let allow = entry.allow, decision.rule == known?.rule {
                    record.append(encoded: allow)
                } else {
                    record.add("decision", "allow")
                    record.add("rule", decision.rule)
                    record.add("reason", decision.reason)
                }
                if let argsDigest { record.add("argsDigest", digest: argsDigest) }
            } : nil
        let shimID = routes.allocateID()
        var replacements = [target.replacing, (request.envelope.id!, JSONWriter.integerText(shimID))]
        var progressToken: Int?
        var agentToken: [UInt8]?
        if let tokenRange = request.params.progressToken {
            let token = routes.allocateID()
            progressToken = token
            agentToken = Array(request.raw[tokenRange])
            if agentEra != .modern && server.era != .modern {
                replacements.append((tokenRange, JSONWriter.integerText(token)))
            }
        }
        // One append at a time: `+=` took a generic path that cost a modern request more than its `_meta` did.
        for replacement in metaReplacements(request, server: server, progressToken: progressToken) {
            replacements.append(replacement)
        }
        if let stateReplacement { replacements.append(stateReplacement) }
        replacements.sort { $0.0.lowerBound < $1.0.lowerBound }
        let forwarded = ForwardedRequest(
            agentID: request.id, server: target.server, method: request.method, subject: target.subject,
            exposedName: target.exposedName, recordedSubject: entry.subject, argsDigest: argsDigest, started: now,
            deadline: now + nanoseconds(persona.timeouts.callSeconds), progressToken: progressToken)
        forwarded.clientCapabilities = declaredCapabilities(request)
        if personaGeneration != 0 { forwarded.personaGeneration = personaGeneration }
        forwarded.logLevel = requestedLogLevel(request, to: server)
        if agentEra != .modern, server.era == .modern, Self.inputRequiredMethods.contains(request.method) {
            forwarded.retryParams = Self.params(request, replacing: replacements)
        }
        routes.addForward(forwarded, id: shimID, agentToken: agentToken)
        let queuedFrom = server.input.queuedTotal
        server.input.appendLine(request.raw, range: request.range, replacing: replacements)
        if let sequence {
            uncommitted.append(
                UncommittedForward(
                    shimID: shimID, server: target.server, sequence: sequence,
                    bytes: queuedFrom..<server.input.queuedTotal))
        }
        server.forwardsSinceFlush += 1
        if server.forwardsSinceFlush == Self.releaseGroup { fullGroups.append(target.server) }
    }

    /// Ends a forwarded request without its server's answer: the outcome on file, and one error for the agent.
    func failForward(_ request: ForwardedRequest, outcome: String, code: Int, _ message: String) {
        recordOutcome(request, outcome: outcome)
        sendToAgent(Message.error(id: request.agentID, code: code, message: message))
    }

    /// Ends a forwarded request with a refusal (a tool result with `isError` for a tool call): the outcome on file,
    /// and one answer for the agent.
    func refuseForward(_ request: ForwardedRequest, outcome: String, code: Int, _ sentence: String) {
        recordOutcome(request, outcome: outcome)
        refuse(request.agentID, request.subject, sentence, code: code)
    }

    func refuseParams(_ request: AgentRequest, _ message: String) {
        sendToAgent(Message.error(id: request.id, code: JSONRPCError.invalidParams, message: message))
    }

    /// Stages a decision that forwards nothing (a refusal); it is written at the end of the read it came in.
    func recordDecision(
        _ subject: RequestSubject, _ name: String, server: String?, decision: String, rule: String, reason: String,
        argsDigest: SHA256.Digest?
    ) {
        audit.stage(.callDecision) { record in
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
        let elapsed = now - min(now, request.started)
        audit.stage(.callOutcome) { record in
            record.append(encoded: request.recordedSubject)
            record.add("outcome", outcome)
            record.add("durationMs", millisecondsFromNanoseconds: elapsed)
            if let argsDigest = request.argsDigest { record.add("argsDigest", digest: argsDigest) }
            if let errorCode { record.add("errorCode", json: errorCode) }
        }
    }
}

/// Where a request goes and what in it changes on the way: its subject, the server, and the range of the request
/// (the name or URI) replaced by the server's own name for it.
struct ForwardTarget {
    var subject: RequestSubject
    var exposedName: String
    var server: Int
    /// The server's own name: tool or prompt name, or URI.
    var originalName: String
    var replacing: (Range<Int>, [UInt8])
    var aliases: [String] = []

    func policySubject(server name: String) -> PolicySubject {
        PolicySubject(
            kind: subject.policyKind, exposedName: exposedName, server: name, name: originalName, aliases: aliases)
    }
}
