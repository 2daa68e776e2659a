/// Decodes the persona's per-call sections into a `CallPolicy`, reporting every mistake at its line and column.
///
/// Everything a call needs is compiled here, once: globs, regular expressions, folders (resolved, links
/// followed), host patterns (normalised), numbers (exact decimals) and intervals.
enum CallPolicyDecoder {
    static let topLevelKeys = ["rules", "limits", "behaviour", "labels", "flows", "annotations", "readOnly"]
    static let ruleKeys = ["id", "tools", "when", "require", "strictArguments", "decision", "reason"]
    static let constraintKeys = [
        "type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "required", "not", "under", "notUnder", "hosts", "ifPresent",
    ]
    static let hostKeys = ["allow", "deny"]

    /// The per-call sections of `top`; `base` anchors relative folders, `home` expands `~`.
    static func decode(_ decoder: inout PersonaDecoder, _ top: JSONObject, base: String, home: String) -> CallPolicy {
        var policy = CallPolicy()
        let paths = PathResolver(home: home, workingDirectory: base)
        if let rules = decoder.array(top["rules"], at: "/rules", what: "\"rules\"") {
            var decoded: [ArgumentRule] = []
            var ids: Set<String> = []
            for (index, value) in rules.enumerated() {
                guard let rule = decodeRule(&decoder, value, at: "/rules/\(index)", index: index, paths: paths)
                else { continue }
                if !ids.insert(rule.id).inserted {
                    decoder.error(at: "/rules/\(index)/id", "rule id \"\(rule.id)\" is used twice; ids must be unique")
                }
                decoded.append(rule)
            }
            policy.rules = ArgumentRuleSet(decoded)
        }
        policy.limits = decodeLimits(&decoder, top["limits"])
        policy.behaviour = decodeBehaviour(&decoder, top["behaviour"])
        policy.flows = decodeFlows(&decoder, labels: top["labels"], flows: top["flows"])
        policy.annotations = decodeAnnotations(&decoder, top["annotations"])
        policy.readOnly = decoder.bool(top, "readOnly", at: "") ?? false
        return policy
    }

    static func decodeRule(
        _ decoder: inout PersonaDecoder, _ value: JSONValue, at pointer: String, index: Int, paths: PathResolver
    )
        -> ArgumentRule?
    {
        guard let object = decoder.object(value, at: pointer, what: "a rule") else { return nil }
        decoder.rejectUnknownKeys(object, at: pointer, allowed: ruleKeys, context: "a rule")
        let id = decoder.string(object, "id", at: pointer) ?? "rules[\(index)]"
        let tools = decoder.stringArray(object, "tools", at: pointer) ?? []
        if tools.isEmpty {
            decoder.error(
                at: pointer,
                "rule \"\(id)\" needs \"tools\": the patterns of the tools it applies to, such as [\"billing__refund\"]"
            )
        }
        let reason = decoder.string(object, "reason", at: pointer)
        if let strict = decoder.bool(object, "strictArguments", at: pointer) {
            if !strict || object["when"] != nil || object["require"] != nil || object["decision"] != nil {
                decoder.error(
                    at: pointer + "/strictArguments",
                    "\"strictArguments\" must be true and stand alone in its rule (without \"when\", \"require\" or \"decision\")"
                )
                return nil
            }
            return ArgumentRule(
                id: id, tools: tools.map(Glob.init), kind: .strictArguments, conditions: [], reason: reason)
        }
        let kind: ArgumentRule.Kind
        let conditionsKey: String
        switch (object["when"], object["require"]) {
        case (.some, nil):
            conditionsKey = "when"
            let decision = decoder.string(object, "decision", at: pointer) ?? "deny"
            let verdict = RuleVerdict(rawValue: decision)
            if verdict == nil {
                // Reported, and the conditions still decoded below, so `check` shows their mistakes too.
                decoder.error(
                    at: pointer + "/decision", "\"decision\" must be \"deny\" or \"ask\", not \"\(decision)\"")
            }
            kind = .when(verdict ?? .deny)
        case (nil, .some):
            conditionsKey = "require"
            if object["decision"] != nil {
                decoder.error(
                    at: pointer + "/decision",
                    "a \"require\" rule always denies a call that breaks it; \"decision\" belongs to \"when\" rules")
            }
            kind = .require
        case (.some, .some):
            decoder.error(
                at: pointer, "rule \"\(id)\" has both \"when\" and \"require\"; write them as two rules")
            return nil
        case (nil, nil):
            decoder.error(
                at: pointer,
                "rule \"\(id)\" needs \"when\" (conditions that trigger its decision) or \"require\" (conditions every call must meet)"
            )
            return nil
        }
        let conditionsPointer = pointer + "/" + conditionsKey
        guard
            let conditionsObject = decoder.object(
                object[conditionsKey], at: conditionsPointer, what: "\"\(conditionsKey)\"")
        else { return nil }
        if conditionsObject.isEmpty {
            decoder.error(at: conditionsPointer, "\"\(conditionsKey)\" names no argument")
        }
        var conditions: [ArgumentCondition] = []
        for (name, schema) in conditionsObject.members {
            let schemaPointer = conditionsPointer + "/" + JSONReader.escapePointer(name)
            let argument: JSONPointer
            do { argument = try JSONPointer(name) } catch {
                decoder.error(at: schemaPointer, key: true, error.description)
                continue
            }
            guard let schemaObject = decoder.object(schema, at: schemaPointer, what: "the conditions on \"\(name)\"")
            else { continue }
            let ifPresent = decoder.bool(schemaObject, "ifPresent", at: schemaPointer) ?? false
            let constraints = decodeConstraints(&decoder, schemaObject, at: schemaPointer, paths: paths)
            conditions.append(ArgumentCondition(argument, constraints, ifPresent: ifPresent))
        }
        return ArgumentRule(id: id, tools: tools.map(Glob.init), kind: kind, conditions: conditions, reason: reason)
    }

    static func decodeConstraints(
        _ decoder: inout PersonaDecoder, _ object: JSONObject, at pointer: String, paths: PathResolver
    )
        -> [ArgumentConstraint]
    {
        decoder.rejectUnknownKeys(object, at: pointer, allowed: constraintKeys, context: "argument conditions")
        var constraints: [ArgumentConstraint] = []
        for (key, value) in object.members {
            let memberPointer = pointer + "/" + JSONReader.escapePointer(key)
            switch key {
            case "type":
                let names: [JSONValue] = value.arrayValue ?? [value]
                var types: [JSONType] = []
                for name in names {
                    guard let text = name.stringValue, let type = JSONType(rawValue: text) else {
                        decoder.error(
                            at: memberPointer,
                            "\"type\" must be one of "
                                + JSONType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                                + " (or an array of them), not \(name)")
                        continue
                    }
                    types.append(type)
                }
                constraints.append(.type(types))
            case "enum":
                guard case .array(let values) = value, !values.isEmpty else {
                    decoder.error(at: memberPointer, "\"enum\" must be a non-empty array of the allowed values")
                    continue
                }
                constraints.append(.oneOf(values))
            case "const":
                constraints.append(.const(value))
            case "pattern":
                guard let text = decoder.string(object, key, at: pointer) else { continue }
                do { constraints.append(.pattern(try PosixRegex(text))) } catch {
                    decoder.error(at: memberPointer, error.description)
                }
            case "minLength", "maxLength":
                guard let count = value.intValue, count >= 0, DecimalNumber(value)?.isInteger == true else {
                    decoder.error(at: memberPointer, "\"\(key)\" must be a whole number of characters, not \(value)")
                    continue
                }
                constraints.append(key == "minLength" ? .minLength(count) : .maxLength(count))
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard let bound = DecimalNumber(value) else {
                    let what = value.stringValue != nil ? "a string (write the number without quotes)" : value.typeName
                    decoder.error(at: memberPointer, "\"\(key)\" must be a number, not \(what)")
                    continue
                }
                switch key {
                case "minimum": constraints.append(.minimum(bound))
                case "maximum": constraints.append(.maximum(bound))
                case "exclusiveMinimum": constraints.append(.exclusiveMinimum(bound))
                default: constraints.append(.exclusiveMaximum(bound))
                }
            case "required":
                guard let names = decoder.stringArray(object, key, at: pointer) else { continue }
                constraints.append(.required(names))
            case "not":
                guard let inner = decoder.object(value, at: memberPointer, what: "\"not\"") else { continue }
                if inner["ifPresent"] != nil {
                    decoder.error(
                        at: memberPointer + "/ifPresent", "\"ifPresent\" belongs beside \"not\", not inside it")
                }
                if inner.isEmpty {
                    decoder.error(
                        at: memberPointer, "\"not\" needs at least one condition; empty, it refuses every value")
                }
                constraints.append(.not(decodeConstraints(&decoder, inner, at: memberPointer, paths: paths)))
            case "under", "notUnder":
                // Both keys become one constraint, made when the first of them is met.
                if key == "notUnder" && object["under"] != nil { continue }
                let under = decoder.stringArray(object, "under", at: pointer) ?? []
                let notUnder = decoder.stringArray(object, "notUnder", at: pointer) ?? []
                do {
                    constraints.append(.paths(try PathScope(under: under, notUnder: notUnder, resolver: paths)))
                } catch {
                    decoder.error(at: memberPointer, "a folder in \"\(key)\" cannot be used: \(error)")
                }
            case "hosts":
                guard let hosts = decoder.object(value, at: memberPointer, what: "\"hosts\"") else { continue }
                decoder.rejectUnknownKeys(hosts, at: memberPointer, allowed: hostKeys, context: "\"hosts\"")
                var lists: [[HostScope.Pattern]] = [[], []]
                for (slot, listKey) in hostKeys.enumerated() {
                    for (index, text) in (decoder.stringArray(hosts, listKey, at: memberPointer) ?? []).enumerated() {
                        do { lists[slot].append(try HostScope.Pattern(text)) } catch {
                            decoder.error(
                                at: "\(memberPointer)/\(listKey)/\(index)",
                                "host pattern \"\(text)\" cannot be used: \(error)")
                        }
                    }
                }
                constraints.append(.hosts(HostScope(allow: lists[0], deny: lists[1])))
            default:
                continue
            }
        }
        return constraints
    }
}

extension PersonaDecoder {
    mutating func array(_ value: JSONValue?, at pointer: String, what: String) -> [JSONValue]? {
        guard let value else { return nil }
        guard case .array(let elements) = value else {
            error(at: pointer, "\(what) must be an array, not \(value.typeName)")
            return nil
        }
        return elements
    }

    /// A whole number of at least `minimum`.
    mutating func count(_ object: JSONObject, _ key: String, at pointer: String, minimum: Int = 1, maximum: Int = .max)
        -> Int?
    {
        guard let value = object[key] else { return nil }
        guard let number = value.intValue, number >= minimum, number <= maximum else {
            let range = maximum == .max ? "\(minimum) or more" : "from \(minimum) to \(maximum)"
            error(at: pointer + "/" + key, "\"\(key)\" must be a whole number \(range), not \(value)")
            return nil
        }
        return number
    }

    /// An interval written `90s`, `5m`, `1h` or `1d`.
    mutating func interval(_ object: JSONObject, _ key: String, at pointer: String) -> RuleInterval? {
        guard let text = string(object, key, at: pointer) else { return nil }
        guard let interval = RuleInterval(text) else {
            error(
                at: pointer + "/" + key,
                "\"\(key)\" must be a whole number and a unit, s, m, h or d (such as \"30s\", \"1m\", \"1h\", \"1d\"; at most a year), not \"\(text)\""
            )
            return nil
        }
        return interval
    }
}
