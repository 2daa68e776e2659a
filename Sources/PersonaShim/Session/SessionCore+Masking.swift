/// Masking in the session: what flows back to the agent (answers, errors, notifications, server requests) is
/// masked when the persona says so, and calls carrying secrets are refused. A persona without `masking` and
/// `secrets` has no `masking`, and none of this runs: answers go back as the server's bytes.
extension SessionCore {
    /// What masking made of a server's answer.
    enum MaskedAnswer {
        /// Nothing to mask: the answer goes on as it was.
        case unchanged
        /// The result to send instead.
        case result(JSONValue)
        /// The answer was sent already (a masked error).
        case sent
    }

    /// Masks a server's answer to a forwarded request. `rewritten` is the result as already rewritten (resource
    /// URIs, an older revision), if it was.
    func maskAnswer(
        _ request: ForwardedRequest, _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope,
        rewritten: JSONValue?
    ) -> MaskedAnswer {
        guard let masking, masking.policy.masksResponses else { return .unchanged }
        let isTool = request.method == "tools/call"
        if isTool, masking.policy.isExempt(tool: request.exposedName) { return .unchanged }
        let detectors = masking.detectors(forTool: isTool ? request.exposedName : nil)
        guard let range = envelope.result ?? envelope.error else { return .unchanged }
        // The prefilter first: an answer with nothing to mask (the common case) costs one scan of its strings, with
        // no walk that tracks paths and no masker set up.
        if rewritten == nil, !masking.mightMask(raw, range, detectors: detectors) { return .unchanged }
        // From the bytes, when nothing after this needs the tree: one pass finds and masks.
        if rewritten == nil, masking.policy.exemptPointers.isEmpty, !policy.judgesResponses,
            !(agentEra == .modern && request.method == "resources/read")
        {
            return maskAnswerBytes(request, raw, envelope, range, detectors: detectors)
        }
        guard let value = rewritten ?? (try? JSONValue.parse(raw, range: range)) else { return .unchanged }
        guard
            let (masked, report) = masking.mask(
                value, detectors: detectors, alsoExempt: masking.exemptStrings(in: value))
        else { return .unchanged }
        if envelope.error != nil {
            recordMasking(request.recordedSubject, report, withheld: false)
            sendToAgent(
                Message.error(
                    id: request.agentID, code: masked["code"]?.intValue ?? JSONRPCError.internalError,
                    message: masked["message"]?.stringValue ?? "", data: masked["data"]))
            return .sent
        }
        if isTool, masked["structuredContent"] != nil, let breach = schemaBreach(request.exposedName, report) {
            recordMasking(request.recordedSubject, report, withheld: true)
            return .result(withheldResult(request.exposedName, breach))
        }
        recordMasking(request.recordedSubject, report, withheld: false)
        return .result(masked)
    }

    private func maskAnswerBytes(
        _ request: ForwardedRequest, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>,
        detectors: DetectorSet
    ) -> MaskedAnswer {
        guard let masking, let (masked, report) = masking.maskBytes(raw, range, detectors: detectors) else {
            return .unchanged
        }
        if envelope.error != nil {
            recordMasking(request.recordedSubject, report, withheld: false)
            sendToAgent(
                Array(#"{"jsonrpc":"2.0","id":"#.utf8) + request.agentID + Array(#","error":"#.utf8) + masked
                    + Array("}\n".utf8))
            return .sent
        }
        if request.method == "tools/call", report.changed.contains(where: { $0.path.first == "structuredContent" }),
            let breach = schemaBreach(request.exposedName, report)
        {
            recordMasking(request.recordedSubject, report, withheld: true)
            return .result(withheldResult(request.exposedName, breach))
        }
        recordMasking(request.recordedSubject, report, withheld: false)
        guard !agentGone else { return .sent }
        if agentEra == .modern {
            sendToAgent(Message.responseHead(id: request.agentID) + masked + Message.responseTail)
        } else {
            // In three pieces: a large result is not copied once more only to be copied into the output.
            agentOutput.append(Message.responseHead(id: request.agentID))
            agentOutput.append(masked)
            agentOutput.append(Message.responseTail)
        }
        return .sent
    }

    private func withheldResult(_ tool: String, _ breach: (pointer: String, reason: String)) -> JSONValue {
        Message.toolError(
            "persona-shim withheld the result of \(tool): the value at \(breach.pointer) holds data the persona \"\(persona.name)\" masks, and the masked form would not be valid against the tool's outputSchema (\(breach.reason)). Masking could not keep the result valid, so neither the data nor an invalid result was sent. If the value is known to be safe, its owner can exempt it in the persona (masking.exempt.pointers)."
        )
    }

    /// The first masked string of `structuredContent` whose masked form breaks the tool's `outputSchema`.
    private func schemaBreach(_ tool: String, _ report: Masker.Report) -> (pointer: String, reason: String)? {
        guard let index = catalog.index(named: tool), index < catalog.entries.count,
            let schema = catalog.entries[index].definition["outputSchema"]
        else { return nil }
        let guardian = OutputSchemaGuard(schema: schema)
        for change in report.changed where change.path.first == "structuredContent" {
            if let reason = guardian.violation(at: Array(change.path.dropFirst()), masked: change.masked) {
                return (MaskingPointer.text(change.path), reason)
            }
        }
        return nil
    }

    /// Masks a server's request or notification before it is handled: its `params` masked and the line rebuilt.
    /// Returns true when it handled the message (it had something to mask).
    func maskServerMessage(
        _ server: Server, _ raw: UnsafeRawBufferPointer, _ envelope: MessageEnvelope, _ range: Range<Int>
    ) -> Bool {
        // A notification the agent will not get is not worth masking (nor a `response.masked` record).
        if envelope.kind == .notification,
            !agentInitialized || (agentEra == .modern && envelope.method == "notifications/message")
        {
            return false
        }
        guard let masking, masking.policy.masksResponses, let params = envelope.params,
            masking.mightMask(raw, params, detectors: masking.defaultDetectors),
            case .object(var message)? = try? JSONValue.parse(raw, range: range), let value = message["params"],
            let (masked, report) = masking.mask(value, detectors: masking.defaultDetectors)
        else { return false }
        message["params"] = masked
        let subject = AuditFields.encode { record in
            record.add("server", server.name)
            record.add("method", envelope.method ?? "")
        }
        recordMasking(subject, report, withheld: false)
        let line = JSONWriter.encode(.object(message))
        line.withUnsafeBytes { bytes in
            guard let rescanned = try? MessageEnvelope.scan(bytes, range: 0..<bytes.count) else { return }
            if rescanned.kind == .request {
                handleServerRequest(server, bytes, rescanned, 0..<bytes.count)
            } else {
                handleServerNotification(server, bytes, rescanned, 0..<bytes.count)
            }
        }
        return true
    }

    /// `response.masked`: which detectors masked how many values in one message, never the values.
    func recordMasking(_ subject: [UInt8], _ report: Masker.Report, withheld: Bool) {
        audit.stage(.responseMasked) { record in
            record.append(encoded: subject)
            record.add(
                named: "masked",
                .object(JSONObject(report.counts.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })))
            if withheld { record.add("withheld", json: Array("true".utf8)) }
        }
    }

    /// The outbound check on a tool call's arguments: nil when nothing in them is a secret.
    func outboundSecrets(_ request: AgentRequest) -> RuleDecision? {
        guard let masking, masking.policy.outbound != .off, let range = request.params.arguments,
            masking.mightMask(request.raw, range, detectors: masking.outboundDetectors),
            let arguments = request.value(range), let finding = masking.outboundFinding(arguments)
        else { return nil }
        return masking.decision(for: finding)
    }
}

extension SessionCore {
    /// A server's question to the agent inside a modern answer (`input_required`), masked as a server request is.
    func masked(_ value: JSONValue, _ request: ForwardedRequest) -> JSONValue {
        guard let masking, masking.policy.masksResponses,
            let (masked, report) = masking.mask(value, detectors: masking.defaultDetectors)
        else { return value }
        recordMasking(request.recordedSubject, report, withheld: false)
        return masked
    }
}

extension SessionCore {
    /// An error message the shim built from a server's (a `-32042` naming elicitations), masked as errors are.
    func maskedError(_ message: [UInt8], _ request: ForwardedRequest) -> [UInt8] {
        guard masking?.policy.masksResponses == true,
            case .object(var object)? = try? JSONValue(parsing: String(decoding: message, as: UTF8.self)),
            let error = object["error"]
        else { return message }
        let masked = self.masked(error, request)
        guard masked != error else { return message }
        object["error"] = masked
        // A whole line, as the message it replaces was.
        return JSONWriter.encode(.object(object)) + (message.last == 0x0A ? [0x0A] : [])
    }
}

extension SessionCore {
    /// Text from a server on its way to the shim's stderr (its own stderr lines, a preview of a line it got
    /// wrong), masked like its answers (labels only: nothing of it is remembered). A preview cut short could cut a
    /// value in two, where no detector would see it, so with masking on it is not shown at all.
    func maskedLogText(_ text: String, cut: Bool = false) -> String {
        guard let masking, masking.policy.masksResponses else { return text }
        if cut { return "(not shown while masking is on)" }
        let masker = Masker(
            detectors: masking.defaultDetectors, replacement: .label, key: masking.key, exemptPointers: [],
            exemptValues: masking.policy.exemptValues)
        var report = Masker.Report()
        return masker.mask(text, report: &report) ?? text
    }
}
