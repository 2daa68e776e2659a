/// Approval for a 2026-07-28 agent, which keeps no session: the call is answered with an `input_required` result
/// holding the shim's question (an elicitation input request) and a `requestState` sealed by the shim. Nothing is
/// parked across the round trip. The agent's retry, carrying the person's answer and that state, is judged again
/// like any call (so limits count only calls that run) and released only if the state is one the shim issued for
/// this server and tool, unused, in time, the arguments canonicalise to the digest the person saw, and the answer
/// is an explicit yes.
extension SessionCore {
    /// The range of a modern request's `requestState`, if it carries one.
    func approvalStateRange(_ request: AgentRequest) -> Range<Int>? {
        guard let params = request.envelope.params, request.raw[params.lowerBound] == UInt8(ascii: "{") else {
            return nil
        }
        return MessageEnvelope.members(request.raw, object: params, named: ["requestState"])[0]
    }

    /// Answers the call with the question; its place under the limits is given back until the retry.
    func askInResult(
        _ request: AgentRequest, _ target: ForwardTarget, _ question: ApprovalQuestion, judgement: CallJudgement,
        argsDigest: SHA256.Digest
    ) {
        calls?.session.notSent(judgement)
        if approvals.seal == nil { approvals.seal = RequestStateSeal(session: audit.session) }
        let binding = RequestStateSeal.Binding(
            server: question.server, method: request.method, name: target.exposedName)
        let token = approvals.seal!.seal(question.id, binding: binding, now: now)
        let lifetime = min(UInt64(question.timeoutSeconds) * 1_000_000_000, RequestStateSeal.lifetime)
        approvals.tickets[question.id] = ApprovalTicket(
            question: question, argsDigest: argsDigest, deadline: now + lifetime)
        if approvals.tickets.count > RequestStateSeal.limit {
            approvals.tickets = approvals.tickets.filter { $0.value.deadline > now }
            if approvals.tickets.count > RequestStateSeal.limit,
                let oldest = approvals.tickets.min(by: { $0.value.deadline < $1.value.deadline })?.key
            {
                approvals.tickets[oldest] = nil
            }
        }
        recordAsked(question, channel: "client")
        let input: JSONValue = [
            "method": "elicitation/create", "params": ApprovalPrompt.elicitation(question, namesMode: true),
        ]
        let result: JSONValue = [
            "resultType": "input_required",
            "inputRequests": .object(JSONObject([(ApprovalPrompt.inputKey, input)])),
            "requestState": .string(token),
        ]
        sendToAgent(Message.response(id: request.id, result: result), marked: true)
    }

    /// The retry of a call that needs approval, carrying `requestState`.
    func answerApprovalRetry(
        _ request: AgentRequest, _ target: ForwardTarget, stateRange: Range<Int>, chain: PolicyChain,
        known: PolicyDecision?, recorded: RecordedEntry, judgement: CallJudgement, argsDigest: SHA256.Digest
    ) {
        let server = servers[target.server]
        let digestText = "sha256:" + argsDigest.bytes.hexString
        func refuseRetry(_ why: String, _ question: ApprovalQuestion?) {
            calls?.session.notSent(judgement)
            audit.stage(.callDecision) { record in
                record.add("server", server.name)
                record.add("tool", target.exposedName)
                record.add("decision", "deny")
                record.add("rule", judgement.decision.rule ?? "approval")
                record.add("reason", "The retry's approval was refused: \(why).")
                if let question {
                    record.add("approval", question.id)
                    record.add("approvedArgsDigest", question.argumentsDigest)
                }
                record.add("argsDigest", digest: argsDigest)
            }
            refuse(
                request.id, .tool,
                "persona-shim refused this retry of \(target.exposedName) under the persona \"\(persona.name)\": \(why). Call the tool again without requestState to ask a person anew.",
                code: JSONRPCError.requestFailed)
        }
        let binding = RequestStateSeal.Binding(server: server.name, method: request.method, name: target.exposedName)
        guard let token = request.string(stateRange),
            let opened = approvals.seal?.open(token, binding: binding, now: now)
        else {
            return refuseRetry("its requestState was refused because \(RequestStateSeal.Refusal.forged)", nil)
        }
        let questionID: String
        switch opened {
        case .success(let id): questionID = id
        case .failure(let refusal): return refuseRetry("its requestState was refused because \(refusal)", nil)
        }
        guard let ticket = approvals.tickets.removeValue(forKey: questionID) else {
            return refuseRetry("the question it answers is no longer open", nil)
        }
        let question = ticket.question
        guard now < ticket.deadline else {
            recordAnswer(question, .timedOut)
            return refuseRetry(
                "the answer came after the approval timeout of \(question.timeoutSeconds) seconds", question)
        }
        guard ticket.argsDigest == argsDigest else {
            return refuseRetry(
                "its arguments (\(digestText)) are not the ones the person was asked about (\(question.argumentsDigest))",
                question)
        }
        let params = request.envelope.params!
        let responses = MessageEnvelope.members(request.raw, object: params, named: ["inputResponses"])[0]
            .flatMap { request.value($0) }
        let answer = ApprovalPrompt.answer(
            result: responses?[ApprovalPrompt.inputKey], error: nil, by: "client")
        recordAnswer(question, answer)
        guard case .approved(let by, let how) = answer else {
            return refuseApproval(
                agentID: request.id, question, judgement: judgement, argsDigest: argsDigest,
                outcome: Self.sentence(answer, timeout: question.timeoutSeconds))
        }
        // The server asked for nothing: it gets the call without the shim's question and state.
        guard case .object(var stripped)? = request.value(params) else {
            return refuseRetry("its params could not be read again", question)
        }
        stripped["requestState"] = nil
        stripped["inputResponses"] = nil
        var line = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        line.append(contentsOf: request.id)
        line.append(contentsOf: #","method":"#.utf8)
        JSONWriter.appendString(request.method, to: &line)
        line.append(contentsOf: #","params":"#.utf8)
        JSONWriter.append(.object(stripped), to: &line)
        line.append(UInt8(ascii: "}"))
        let approved = ApprovedCall(question: question, by: by, how: how, judgement: judgement)
        line.withUnsafeBytes { raw in
            guard let envelope = try? MessageEnvelope.scan(raw, range: 0..<raw.count) else {
                return refuseRetry("its params could not be read again", question)
            }
            let retry = AgentRequest(raw: raw, envelope: envelope, range: 0..<raw.count)
            // What runs must be what was approved: checked again on the bytes that will be sent.
            guard let name = retry.params.name,
                (try? CanonicalJSON.digest(raw, retry.params.arguments)) == argsDigest
            else { return refuseRetry("its arguments changed while it was rebuilt", question) }
            var target = target
            target.replacing.0 = name
            forward(
                retry, target: target, chain: chain, argsDigest: argsDigest, known: known, recorded: recorded,
                approved: approved)
        }
    }
}
