/// Calls parked for a person's approval. A rule said `ask`: the call waits (other calls keep flowing) while a person
/// is asked in the agent's client (`elicitation/create` from the shim, for a handshake-era agent) or out of band
/// (`askOutOfBand`, answered with `approvalAnswered`). Only a yes lets that one call through, with the very bytes
/// the person was asked about; anything else, or no answer by the persona's `approval.timeoutSeconds`, refuses it.
/// A 2026-07-28 agent is asked in an `input_required` result instead (SessionCore+ApprovalRetry.swift).
extension SessionCore {
    /// A rule said `ask` about this call (enforce mode): ask a person, or refuse when nobody can be asked.
    func askApproval(
        _ request: AgentRequest, _ target: ForwardTarget, chain: PolicyChain, known: PolicyDecision?,
        recorded: RecordedEntry, judgement: CallJudgement, argsDigest: SHA256.Digest?
    ) {
        let server = servers[target.server]
        guard let argsDigest, case .ask(let rule, let reason) = judgement.decision else {
            calls?.session.notSent(judgement)
            return refuseCall(
                request, target, server: server,
                PolicyDecision(
                    .deny, rule: judgement.decision.rule ?? "arguments",
                    reason: "The call's arguments could not be read."),
                argsDigest: argsDigest)
        }
        if agentEra == .modern, let stateRange = approvalStateRange(request) {
            return answerApprovalRetry(
                request, target, stateRange: stateRange, chain: chain, known: known, recorded: recorded,
                judgement: judgement, argsDigest: argsDigest)
        }
        var canonical: [UInt8] = []
        if let range = request.params.arguments, let value = request.value(range) {
            JSONWriter.append(value, to: &canonical, canonical: true)
        } else {
            canonical = Array("{}".utf8)
        }
        let question = ApprovalQuestion(
            id: ApprovalBook.newQuestionID(), session: audit.session, persona: persona.name, server: server.name,
            tool: target.exposedName, arguments: canonical, argumentsDigest: "sha256:" + argsDigest.bytes.hexString,
            rule: rule, reason: reason, timeoutSeconds: persona.approval.timeoutSeconds)
        let settings = persona.approval
        if agentEra == .modern {
            if settings.channel != .outOfBand, Self.canElicitForm(declaredCapabilities(request)) {
                return askInResult(request, target, question, judgement: judgement, argsDigest: argsDigest)
            }
        } else if settings.channel != .outOfBand, !agentGone, agentProtocolVersion >= "2025-06-18",
            Self.canElicitForm(agentCapabilities)
        {
            guard let parked = park(request, target, question, chain, known, recorded, judgement, argsDigest)
            else { return }
            let elicitationID = routes.allocateID()
            approvals.parked[question.id]?.channel = .client(elicitationID: elicitationID)
            approvals.asking[elicitationID] = question.id
            recordAsked(parked.question, channel: "client")
            return sendToAgent(
                Message.request(
                    id: elicitationID, method: "elicitation/create",
                    params: ApprovalPrompt.elicitation(question, namesMode: agentProtocolVersion >= "2025-11-25")))
        }
        guard settings.channel != .client else {
            return refuseApproval(
                agentID: request.id, question, judgement: judgement, argsDigest: argsDigest,
                outcome:
                    "the persona asks for approval in the agent's client only, and this client cannot ask a person (it did not declare form elicitation)"
            )
        }
        guard park(request, target, question, chain, known, recorded, judgement, argsDigest) != nil else { return }
        recordAsked(question, channel: "out-of-band")
        perform(.askOutOfBand(question))
    }

    /// Whether a client that declared `capabilities` can be sent a form-mode elicitation.
    static func canElicitForm(_ capabilities: JSONObject?) -> Bool {
        guard let declared = capabilities?["elicitation"] else { return false }
        let modes = declared.objectValue ?? JSONObject()
        return modes.isEmpty || modes["form"] != nil
    }

    /// Parks a call (channel out of band until the caller says otherwise); nil after refusing it when too many wait.
    private func park(
        _ request: AgentRequest, _ target: ForwardTarget, _ question: ApprovalQuestion, _ chain: PolicyChain,
        _ known: PolicyDecision?, _ recorded: RecordedEntry, _ judgement: CallJudgement, _ argsDigest: SHA256.Digest
    ) -> ParkedCall? {
        guard approvals.parked.count < ApprovalBook.parkedLimit else {
            refuseApproval(
                agentID: request.id, question, judgement: judgement, argsDigest: argsDigest,
                outcome:
                    "\(ApprovalBook.parkedLimit) calls already wait for a person, which is as many as may wait at once; try again once they are answered"
            )
            return nil
        }
        let parked = ParkedCall(
            question: question, line: Array(request.raw[request.range]), agentID: request.id, target: target,
            chain: chain, known: known, recorded: recorded, judgement: judgement, argsDigest: argsDigest,
            deadline: now + UInt64(question.timeoutSeconds) * 1_000_000_000, channel: .outOfBand)
        approvals.parked[question.id] = parked
        return parked
    }

    /// An out-of-band channel settled question `id`. A question already settled (answered another way, timed
    /// out, withdrawn) is left alone.
    func approvalAnswered(id: String, _ answer: ApprovalAnswer) {
        guard let parked = approvals.parked.removeValue(forKey: id) else { return }
        if case .client(let elicitationID) = parked.channel { approvals.asking[elicitationID] = nil }
        settle(parked, parked.deadline <= now ? .timedOut : answer)
    }

    /// The agent's client answered the shim's `elicitation/create` (`id` is the shim's request id).
    func clientAnsweredApproval(_ id: Int, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope) {
        guard let questionID = approvals.asking.removeValue(forKey: id),
            let parked = approvals.parked.removeValue(forKey: questionID)
        else { return }
        let result = envelope.result.flatMap { try? JSONValue.parse(raw, range: $0) }
        let error = envelope.error.flatMap { try? JSONValue.parse(raw, range: $0) }
        let answer: ApprovalAnswer =
            envelope.result != nil || envelope.error != nil
            ? ApprovalPrompt.answer(result: result, error: error, by: "client")
            : .failed(by: "client", reason: "the client's answer was malformed")
        // An answer read after the deadline, before the timer that expires the question fired, is too late all the
        // same: an approval expires.
        settle(parked, parked.deadline <= now ? .timedOut : answer)
    }

    /// One answer for a parked call: on file, then the call forwarded (yes) or refused (anything else).
    private func settle(_ parked: ParkedCall, _ answer: ApprovalAnswer) {
        recordAnswer(parked.question, answer)
        guard case .approved(let by, let how) = answer else {
            return refuseApproval(
                agentID: parked.agentID, parked.question, judgement: parked.judgement, argsDigest: parked.argsDigest,
                outcome: Self.sentence(answer, timeout: parked.question.timeoutSeconds))
        }
        let approved = ApprovedCall(question: parked.question, by: by, how: how, judgement: parked.judgement)
        parked.line.withUnsafeBytes { raw in
            guard let envelope = try? MessageEnvelope.scan(raw, range: 0..<raw.count), envelope.kind == .request
            else {
                return refuseApproval(
                    agentID: parked.agentID, parked.question, judgement: parked.judgement,
                    argsDigest: parked.argsDigest, outcome: "the parked request could not be read again")
            }
            let request = AgentRequest(raw: raw, envelope: envelope, range: 0..<raw.count)
            var target = parked.target
            target.replacing.0 = request.params.name!
            currentCapabilities = nil
            forward(
                request, target: target, chain: parked.chain, argsDigest: parked.argsDigest, known: parked.known,
                recorded: parked.recorded, approved: approved)
        }
    }

    /// Settles the parked calls whose person did not answer in time.
    func expireApprovals() {
        guard let next = approvals.nextDeadline, next <= now else { return }
        for (id, parked) in approvals.parked where parked.deadline <= now {
            approvals.parked[id] = nil
            withdraw(parked, reason: "persona-shim: nobody answered within \(parked.question.timeoutSeconds) seconds")
            settle(parked, .timedOut)
        }
    }

    /// The agent cancelled a request: a parked call of it is dropped (it is owed no answer) and its question withdrawn.
    func withdrawParkedCalls(agentID: [UInt8]) {
        for (id, parked) in approvals.parked where parked.agentID == agentID {
            approvals.parked[id] = nil
            withdraw(parked, reason: "persona-shim: the agent cancelled the call")
            calls?.session.notSent(parked.judgement)
            recordAnswer(parked.question, nil, how: "the agent cancelled the call (notifications/cancelled)")
        }
    }

    /// The session ends: every parked call is refused and its question withdrawn.
    func refuseParkedCalls() {
        refuseEveryParkedCall(
            withdrawing: "persona-shim is shutting down", recorded: "the session ended before anyone answered",
            outcome: "persona-shim is shutting down, and nobody approved it before")
    }

    /// Refuses every parked call, oldest deadline first: its question withdrawn (`withdrawing` says why to the
    /// one asked), the withdrawal on file (`recorded`), and the agent told (`outcome`).
    func refuseEveryParkedCall(withdrawing: String, recorded: String, outcome: String) {
        let parkedCalls = approvals.parked.values.sorted { $0.deadline < $1.deadline }
        approvals.parked = [:]
        for parked in parkedCalls {
            withdraw(parked, reason: withdrawing)
            recordAnswer(parked.question, nil, how: recorded)
            refuseApproval(
                agentID: parked.agentID, parked.question, judgement: parked.judgement, argsDigest: parked.argsDigest,
                outcome: outcome)
        }
    }

    /// Stops asking: the client's elicitation is cancelled, an out-of-band question withdrawn.
    func withdraw(_ parked: ParkedCall, reason: String) {
        switch parked.channel {
        case .client(let elicitationID):
            approvals.asking[elicitationID] = nil
            sendToAgent(
                Message.notification(
                    method: "notifications/cancelled",
                    params: ["requestId": .integer(elicitationID), "reason": .string(reason)]))
        case .outOfBand:
            perform(.withdrawQuestion(id: parked.question.id))
        }
    }

    /// Refuses a call that needed approval and did not get it: its place under the limits given back, the decision
    /// on file, and a tool result with `isError` saying what happened.
    func refuseApproval(
        agentID: [UInt8], _ question: ApprovalQuestion, judgement: CallJudgement, argsDigest: SHA256.Digest,
        outcome: String, approvedDigest: String? = nil
    ) {
        calls?.session.notSent(judgement)
        let taint = calls?.session.taint ?? []
        audit.stage(.callDecision) { record in
            record.add("server", question.server)
            record.add("tool", question.tool)
            record.add("decision", "deny")
            record.add("rule", question.rule)
            record.add("reason", "\(question.reason) Not approved: \(outcome).")
            record.add("approval", question.id)
            if let approvedDigest { record.add("approvedArgsDigest", approvedDigest) }
            record.add("argsDigest", digest: argsDigest)
            if !taint.isEmpty { record.add(named: "taint", .array(taint.map(JSONValue.string))) }
        }
        let sentence =
            "persona-shim refused this call under the persona \"\(persona.name)\": \(question.reason) It needs a person's approval, and \(outcome), so nothing reached the server (rule \(question.rule))."
        refuse(agentID, .tool, sentence, code: JSONRPCError.requestFailed)
    }

    static func sentence(_ answer: ApprovalAnswer, timeout: Int) -> String {
        switch answer {
        case .approved: "it was approved"
        case .denied(let by, let how): "the person asked did not approve it (\(by): \(how))"
        case .timedOut: "nobody answered within \(timeout) seconds"
        case .failed(let by, let reason): "no approval could be obtained (\(by): \(reason))"
        }
    }

    func recordAsked(_ question: ApprovalQuestion, channel: String) {
        audit.stage(.approvalAsked) { record in
            record.add("approval", question.id)
            record.add("server", question.server)
            record.add("tool", question.tool)
            record.add("rule", question.rule)
            record.add("reason", question.reason)
            record.add("channel", channel)
            record.add("timeoutSeconds", integer: question.timeoutSeconds)
            record.add("argsDigest", question.argumentsDigest)
        }
    }

    /// How a question was settled; `answer` nil when it was withdrawn (`how` says why).
    func recordAnswer(_ question: ApprovalQuestion, _ answer: ApprovalAnswer?, how withdrawn: String = "") {
        let (by, how, verdict): (String, String, String) =
            switch answer {
            case .approved(let by, let how)?: (by, how, "approved")
            case .denied(let by, let how)?: (by, how, "denied")
            case .timedOut?: ("nobody", "no answer within \(question.timeoutSeconds) seconds", "timeout")
            case .failed(let by, let reason)?: (by, reason, "failed")
            case nil: ("shim", withdrawn, "withdrawn")
            }
        audit.stage(.approvalAnswered) { record in
            record.add("approval", question.id)
            record.add("server", question.server)
            record.add("tool", question.tool)
            record.add("by", by)
            record.add("how", how)
            record.add("answer", verdict)
            if verdict == "approved" { record.add("approvedArgsDigest", question.argumentsDigest) }
            record.add("argsDigest", question.argumentsDigest)
        }
    }
}
