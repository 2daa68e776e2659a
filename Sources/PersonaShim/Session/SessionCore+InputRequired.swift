/// Multi round-trip requests between a modern agent and a modern server: a server's `input_required` result reaches
/// the agent with its `requestState` sealed by the shim (`RequestStateSeal`), its input requests judged by the
/// persona's `serverRequests` rules and audited as server requests, and the agent's retry is let through only with a
/// state the shim issued for that server and that request, once, in time.
extension SessionCore {
    static let inputRequiredMethods: Set<String> = ["tools/call", "prompts/get", "resources/read"]
    static let requestStateKeyBytes = Array(#""requestState""#.utf8)

    /// A modern agent's capabilities for this request that the persona lets servers use; what a modern server
    /// is told it may ask for.
    func relayedCapabilities(meta request: AgentRequest) -> JSONObject {
        // A legacy agent declared its capabilities once; the shim asks it on a modern server's behalf.
        guard agentEra == .modern else { return serverClientCapabilities }
        let declared = declaredCapabilities(request) ?? JSONObject()
        var relayed = JSONObject()
        for (capability, permission) in Self.agentBoundMethods.values.sorted(by: { $0.0 < $1.0 })
        where persona.serverRequests[keyPath: permission] {
            if let value = declared[capability] { relayed[capability] = value }
        }
        return relayed
    }

    /// The agent's declared capabilities for a forwarded request, kept to judge an `input_required` answer.
    func declaredCapabilities(_ request: AgentRequest) -> JSONObject? {
        guard agentEra == .modern else { return nil }
        return currentCapabilities
            ?? request.value(request.params.meta)?[MCPProtocol.clientCapabilitiesKey]?.objectValue
    }

    /// A modern agent's retry carrying `requestState`: the replacement that gives the server its own state back,
    /// or nil after refusing the retry (and recording why). No `requestState`, nothing to do: `.some(nil)`.
    func openRequestState(
        _ request: AgentRequest, target: ForwardTarget, server: Server, argsDigest: SHA256.Digest?
    ) -> (Range<Int>, [UInt8])?? {
        guard agentEra == .modern || server.era == .modern, let params = request.envelope.params,
            request.raw[params.lowerBound] == UInt8(ascii: "{"),
            Self.mentions(request.raw, params, Self.requestStateKeyBytes)
                || Self.mentions(request.raw, params, Self.backslash)
        else { return .some(nil) }
        let (count, escaped) = Self.requestStateKeys(request.raw, params)
        guard count > 0 || escaped else { return .some(nil) }
        let binding = RequestStateSeal.Binding(
            server: server.name, method: request.method, name: target.exposedName,
            arguments: argsDigest?.bytes.hexString ?? "")
        let stateRange =
            count == 1 && !escaped && agentEra == .modern
            ? MessageEnvelope.members(request.raw, object: params, named: ["requestState"])[0] : nil
        let refusal: RequestStateSeal.Refusal
        if let stateRange, let token = request.string(stateRange) {
            switch requestStates.openHeld(token, binding: binding, now: now) {
            case .success(.ticket(let ticket)):
                releaseHeld(ticket, request, target: target, argsDigest: argsDigest)
                return nil
            case .success(.serverState(let state)):
                var replacement: [UInt8] = []
                JSONWriter.appendString(state, to: &replacement)
                return .some((stateRange, replacement))
            case .failure(let reason): refusal = reason
            }
        } else {
            refusal = .forged
        }
        recordDecision(
            target.subject, target.exposedName, server: server.name, decision: "deny", rule: "requestState",
            reason: "the retry's requestState was refused: \(refusal)", argsDigest: argsDigest)
        refuse(
            request.id, target.subject,
            "persona-shim refused this retry of \(target.exposedName): its requestState was refused because \(refusal).",
            code: JSONRPCError.invalidParams)
        return nil
    }

    static let backslash = [UInt8(ascii: "\\")]

    /// How often the params object names `requestState` plainly, and whether a key names it escaped: a server's
    /// reader would take either, so a second or an escaped one must not slip past the seal.
    static func requestStateKeys(_ raw: UnsafeRawBufferPointer, _ params: Range<Int>) -> (Int, Bool) {
        let plain = Array("requestState".utf8)
        var count = 0
        var escaped = false
        _ = MessageEnvelope.containsMember(raw, object: params) { key in
            if key.count == plain.count && key.elementsEqual(plain) {
                count += 1
            } else if key.contains(UInt8(ascii: "\\")) {
                let quoted = [UInt8(ascii: "\"")] + Array(key) + [UInt8(ascii: "\"")]
                let decoded = quoted.withUnsafeBytes { bytes -> String? in
                    var reader = JSONReader(bytes, range: 0..<bytes.count)
                    return try? reader.parseString()
                }
                if decoded == "requestState" { escaped = true }
            }
            return false
        }
        return (count, escaped)
    }

    /// A modern server needs input to answer `request`. Returns false when the agent cannot be asked (a legacy
    /// agent, or a method that may not ask), so the caller refuses the request.
    func relayInputRequired(
        _ request: ForwardedRequest, _ server: Server, _ raw: UnsafeRawBufferPointer, result resultRange: Range<Int>
    ) -> Bool {
        guard agentEra == .modern, Self.inputRequiredMethods.contains(request.method) else { return false }
        if request.subject == .tool, calls != nil { callAnswered(failed: false) }
        guard case .object(var result)? = try? JSONValue.parse(raw, range: resultRange) else {
            refuseForward(
                request, outcome: "malformed_response", code: JSONRPCError.internalError,
                "The server \(server.name) asked for input to answer \(request.exposedName) in a result that could not be read; persona-shim did not pass it on."
            )
            return true
        }
        var inputs = result["inputRequests"]?.objectValue ?? JSONObject()
        var missing = JSONObject()
        for (_, input) in inputs.members {
            let method = input["method"]?.stringValue ?? "(no method)"
            guard let (capability, permission) = Self.agentBoundMethods[method],
                persona.serverRequests[keyPath: permission]
            else {
                if let (capability, _) = Self.agentBoundMethods[method] {
                    recordRefusedServerRequest(server, method, capability: capability)
                }
                refuseForward(
                    request, outcome: "input_refused", code: JSONRPCError.requestFailed,
                    "The server \(server.name) asked for \(method) to answer \(request.exposedName), which the persona \"\(persona.name)\" does not allow servers to use; the request did not complete."
                )
                return true
            }
            if request.clientCapabilities?[capability] == nil { missing[capability] = [:] }
        }
        guard missing.isEmpty else {
            recordOutcome(request, outcome: "missing_capability")
            sendToAgent(
                Message.error(
                    id: request.agentID, code: JSONRPCError.missingRequiredClientCapability,
                    message:
                        "The server \(server.name) needs the client capabilities \(missing.keys.joined(separator: ", ")) to answer \(request.exposedName), and this request did not declare them.",
                    data: ["requiredCapabilities": .object(missing)]))
            return true
        }
        for (key, input) in inputs.members {
            let method = input["method"]!.stringValue!
            let params = input["params"]?.objectValue ?? JSONObject()
            if let lacking = missingClientFeature(
                method, params, capabilities: request.clientCapabilities ?? JSONObject())
            {
                refuseForward(
                    request, outcome: "input_refused", code: JSONRPCError.requestFailed,
                    "The server \(server.name) asked for \(method) to answer \(request.exposedName), which the client cannot take (\(lacking)); the request did not complete."
                )
                return true
            }
            var marked = input.objectValue ?? JSONObject()
            marked["params"] = .object(Self.markedQuestion(method, params, of: server))
            inputs[key] = .object(marked)
        }
        if !inputs.isEmpty { result["inputRequests"] = .object(inputs) }
        do {
            for (_, input) in inputs.members {
                let method = input["method"]!.stringValue!
                try recordServerRequest(
                    server, method, capability: Self.agentBoundMethods[method]!.0, decision: "allow")
            }
        } catch {
            logger.error("refusing the input \(server.name) asked for: \(error)")
            refuseForward(
                request, outcome: "input_refused", code: JSONRPCError.internalError,
                "persona-shim did not pass on the questions of \(server.name) because it could not write the audit record (\(error.reason))."
            )
            return true
        }
        if let state = result["requestState"] {
            guard case .string(let text) = state else {
                result["requestState"] = nil
                return relayResult(request, result)
            }
            let binding = RequestStateSeal.Binding(
                server: server.name, method: request.method, name: request.exposedName,
                arguments: request.argsDigest?.bytes.hexString ?? "")
            result["requestState"] = .string(requestStates.seal(text, binding: binding, now: now))
        }
        return relayResult(request, result)
    }

    private func relayResult(_ request: ForwardedRequest, _ result: JSONObject) -> Bool {
        recordOutcome(request, outcome: "input_required")
        sendToAgent(Message.response(id: request.agentID, result: .object(result)))
        return true
    }
}
