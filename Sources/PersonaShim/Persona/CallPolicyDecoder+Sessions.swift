extension CallPolicyDecoder {
    static let limitKeys = ["id", "tools", "servers", "calls", "per", "acrossSessions"]
    static let behaviourKeys = ["repeats", "failures", "probes", "coolDown"]
    static let repeatKeys = ["max", "within"]
    static let labelKeys = ["tools", "servers"]
    static let flowKeys = ["id", "from", "to", "decision"]
    static let hintKeys = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]

    static func decodeLimits(_ decoder: inout PersonaDecoder, _ value: JSONValue?) -> [CallLimit] {
        guard let entries = decoder.array(value, at: "/limits", what: "\"limits\"") else { return [] }
        var limits: [CallLimit] = []
        var ids: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let pointer = "/limits/\(index)"
            guard let object = decoder.object(entry, at: pointer, what: "a limit") else { continue }
            decoder.rejectUnknownKeys(object, at: pointer, allowed: limitKeys, context: "a limit")
            let id = decoder.string(object, "id", at: pointer) ?? "limits[\(index)]"
            if !ids.insert(id).inserted {
                decoder.error(at: pointer + "/id", "limit id \"\(id)\" is used twice; ids must be unique")
            }
            let tools = decoder.stringArray(object, "tools", at: pointer)
            let servers = decoder.stringArray(object, "servers", at: pointer)
            var scope = CallLimit.Scope.persona
            switch (tools, servers) {
            case (let tools?, nil): scope = .tools(tools.map(Glob.init))
            case (nil, let servers?): scope = .servers(servers)
            case (.some, .some):
                decoder.error(
                    at: pointer, "limit \"\(id)\" has both \"tools\" and \"servers\"; write them as two limits")
            case (nil, nil): break
            }
            let calls = decoder.count(object, "calls", at: pointer, maximum: CallLimit.maximumCalls)
            if object["calls"] == nil {
                decoder.error(at: pointer, "limit \"\(id)\" needs \"calls\": how many calls it allows")
            }
            let per = decoder.interval(object, "per", at: pointer)
            let acrossSessions = decoder.bool(object, "acrossSessions", at: pointer) ?? false
            if acrossSessions && object["per"] == nil {
                decoder.error(
                    at: pointer + "/acrossSessions",
                    "a limit counted across sessions needs \"per\" (such as \"1d\"): a count that never resets would stop the persona for good"
                )
            }
            guard let calls else { continue }
            limits.append(CallLimit(id: id, scope: scope, calls: calls, per: per, acrossSessions: acrossSessions))
        }
        return limits
    }

    static func decodeBehaviour(_ decoder: inout PersonaDecoder, _ value: JSONValue?) -> BehaviourPolicy {
        var policy = BehaviourPolicy()
        guard let object = decoder.object(value, at: "/behaviour", what: "\"behaviour\"") else { return policy }
        decoder.rejectUnknownKeys(object, at: "/behaviour", allowed: behaviourKeys, context: "\"behaviour\"")
        if let repeats = decoder.object(object["repeats"], at: "/behaviour/repeats", what: "\"repeats\"") {
            decoder.rejectUnknownKeys(repeats, at: "/behaviour/repeats", allowed: repeatKeys, context: "\"repeats\"")
            let maximum = decoder.count(repeats, "max", at: "/behaviour/repeats")
            let within = decoder.interval(repeats, "within", at: "/behaviour/repeats")
            if repeats["max"] == nil || repeats["within"] == nil {
                decoder.error(
                    at: "/behaviour/repeats",
                    "\"repeats\" needs \"max\" (a number of calls) and \"within\" (such as \"1m\")")
            }
            if let maximum, let within { policy.repeats = (maximum, within) }
        }
        policy.failures = decoder.count(object, "failures", at: "/behaviour")
        policy.probes = decoder.count(object, "probes", at: "/behaviour", minimum: 0)
        if let coolDown = decoder.interval(object, "coolDown", at: "/behaviour") {
            policy.onBreach = .coolDown(coolDown)
        }
        if policy.isEmpty && object["coolDown"] != nil {
            decoder.report(
                .warning, at: "/behaviour/coolDown",
                "\"coolDown\" has no effect without \"repeats\", \"failures\" or \"probes\"")
        }
        return policy
    }

    static func decodeFlows(_ decoder: inout PersonaDecoder, labels: JSONValue?, flows: JSONValue?) -> FlowPolicy {
        var toolLabels: [(pattern: Glob, labels: [String])] = []
        var serverLabels: [String: [String]] = [:]
        if let object = decoder.object(labels, at: "/labels", what: "\"labels\"") {
            decoder.rejectUnknownKeys(object, at: "/labels", allowed: labelKeys, context: "\"labels\"")
            for key in labelKeys {
                let pointer = "/labels/" + key
                guard let map = decoder.object(object[key], at: pointer, what: "\"labels.\(key)\"") else { continue }
                for (name, _) in map.members {
                    let names = decoder.stringArray(map, name, at: pointer) ?? []
                    for (index, label) in names.enumerated() where !isLabel(label) {
                        decoder.error(
                            at: "\(pointer)/\(JSONReader.escapePointer(name))/\(index)",
                            "label \"\(label)\" may use only lower-case letters, digits and '-'")
                    }
                    if key == "tools" { toolLabels.append((Glob(name), names)) } else { serverLabels[name] = names }
                }
            }
        }
        var decoded: [FlowPolicy.Flow]?
        if let entries = decoder.array(flows, at: "/flows", what: "\"flows\"") {
            decoded = []
            for (index, entry) in entries.enumerated() {
                let pointer = "/flows/\(index)"
                guard let object = decoder.object(entry, at: pointer, what: "a flow") else { continue }
                decoder.rejectUnknownKeys(object, at: pointer, allowed: flowKeys, context: "a flow")
                let id = decoder.string(object, "id", at: pointer) ?? "flows[\(index)]"
                let from = decoder.stringArray(object, "from", at: pointer) ?? []
                let to = decoder.stringArray(object, "to", at: pointer) ?? []
                if from.isEmpty || to.isEmpty {
                    decoder.error(
                        at: pointer,
                        "flow \"\(id)\" needs \"from\" and \"to\": the labels that taint a session and the labels then refused"
                    )
                }
                let decisionText = decoder.string(object, "decision", at: pointer) ?? "deny"
                guard let decision = RuleVerdict(rawValue: decisionText) else {
                    decoder.error(
                        at: pointer + "/decision", "\"decision\" must be \"deny\" or \"ask\", not \"\(decisionText)\"")
                    continue
                }
                decoded?.append(FlowPolicy.Flow(id: id, from: from, to: to, decision: decision))
            }
            if labels == nil {
                decoder.report(.warning, at: "/flows", "\"flows\" has no effect without \"labels\" on tools or servers")
            }
        }
        return FlowPolicy(toolLabels: toolLabels, serverLabels: serverLabels, flows: decoded)
    }

    static func isLabel(_ label: String) -> Bool {
        !label.isEmpty
            && label.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 &- UInt8(ascii: "0") < 10
                    || $0 == UInt8(ascii: "-")
            }
    }

    static func decodeAnnotations(_ decoder: inout PersonaDecoder, _ value: JSONValue?) -> [AnnotationOverride] {
        guard let object = decoder.object(value, at: "/annotations", what: "\"annotations\"") else { return [] }
        var overrides: [AnnotationOverride] = []
        for (pattern, entry) in object.members {
            let pointer = "/annotations/" + JSONReader.escapePointer(pattern)
            guard let hints = decoder.object(entry, at: pointer, what: "the annotations of \"\(pattern)\"") else {
                continue
            }
            decoder.rejectUnknownKeys(hints, at: pointer, allowed: hintKeys, context: "annotations")
            overrides.append(
                AnnotationOverride(
                    pattern: Glob(pattern),
                    hints: ToolHints(
                        readOnlyHint: decoder.bool(hints, "readOnlyHint", at: pointer),
                        destructiveHint: decoder.bool(hints, "destructiveHint", at: pointer),
                        idempotentHint: decoder.bool(hints, "idempotentHint", at: pointer),
                        openWorldHint: decoder.bool(hints, "openWorldHint", at: pointer))))
        }
        return overrides
    }
}
