/// Decodes the persona's `masking` and `secrets` sections, reporting every mistake at its line and column.
enum MaskingDecoder {
    static let topLevelKeys = ["masking", "secrets"]
    static let maskingKeys = ["detectors", "patterns", "replacement", "exempt", "tools"]
    static let patternKeys = ["name", "regex"]
    static let exemptKeys = ["tools", "pointers", "values"]
    static let overrideKeys = ["detectors"]
    static let secretsKeys = ["outbound"]

    /// The policy, or nil when the persona has neither section (then nothing of it exists in a session).
    static func decode(_ decoder: inout PersonaDecoder, _ top: JSONObject) -> MaskingPolicy? {
        let masking = decoder.object(top["masking"], at: "/masking", what: "\"masking\"")
        let secrets = decoder.object(top["secrets"], at: "/secrets", what: "\"secrets\"")
        guard masking != nil || secrets != nil else { return nil }
        // With masking on and nothing said about secrets, calls carrying one are refused (fail closed).
        var outbound: MaskingPolicy.Outbound = .deny
        if let secrets {
            decoder.rejectUnknownKeys(secrets, at: "/secrets", allowed: secretsKeys, context: "\"secrets\"")
            if let text = decoder.string(secrets, "outbound", at: "/secrets") {
                if let value = MaskingPolicy.Outbound(rawValue: text) {
                    outbound = value
                } else {
                    decoder.error(
                        at: "/secrets/outbound", "\"outbound\" must be \"deny\", \"ask\" or \"off\", not \"\(text)\"")
                }
            }
        }
        let object = masking ?? JSONObject()
        decoder.rejectUnknownKeys(object, at: "/masking", allowed: maskingKeys, context: "\"masking\"")
        let patterns = decodePatterns(&decoder, object["patterns"])
        let known = DetectorSet.builtInNames + patterns.map(\.name)
        let names =
            masking == nil
            ? [] : decodeDetectorChoice(&decoder, object["detectors"], at: "/masking/detectors", known: known)
        var overrides: [MaskingPolicy.ToolOverride] = []
        if let tools = decoder.object(object["tools"], at: "/masking/tools", what: "\"masking.tools\"") {
            for (pattern, value) in tools.members {
                let pointer = "/masking/tools/" + JSONReader.escapePointer(pattern)
                guard let entry = decoder.object(value, at: pointer, what: "a tool's masking") else { continue }
                decoder.rejectUnknownKeys(entry, at: pointer, allowed: overrideKeys, context: "a tool's masking")
                guard entry["detectors"] != nil else {
                    decoder.error(at: pointer, "the masking of \"\(pattern)\" needs \"detectors\" (a list, or \"all\")")
                    continue
                }
                let chosen = decodeDetectorChoice(
                    &decoder, entry["detectors"], at: pointer + "/detectors", known: known)
                overrides.append(MaskingPolicy.ToolOverride(patterns: [Glob(pattern)], detectorNames: chosen))
            }
        }
        let policy: MaskingPolicy
        do {
            policy = try MaskingPolicy(
                masksResponses: masking != nil, detectorNames: names, customPatterns: patterns, outbound: outbound,
                overrides: overrides)
        } catch {
            decoder.error(at: "/masking/patterns", "\(error)")
            return nil
        }
        var result = policy
        if let text = decoder.string(object, "replacement", at: "/masking") {
            if let replacement = MaskingPolicy.Replacement(rawValue: text) {
                result.replacement = replacement
            } else {
                decoder.error(
                    at: "/masking/replacement", "\"replacement\" must be \"label\" or \"hash\", not \"\(text)\"")
            }
        }
        if let exempt = decoder.object(object["exempt"], at: "/masking/exempt", what: "\"masking.exempt\"") {
            decoder.rejectUnknownKeys(exempt, at: "/masking/exempt", allowed: exemptKeys, context: "\"masking.exempt\"")
            result.exemptTools = (decoder.stringArray(exempt, "tools", at: "/masking/exempt") ?? []).map(Glob.init)
            for (index, pointer) in (decoder.stringArray(exempt, "pointers", at: "/masking/exempt") ?? []).enumerated()
            {
                guard let segments = MaskingPointer.segments(pointer) else {
                    decoder.error(
                        at: "/masking/exempt/pointers/\(index)",
                        "\"\(pointer)\" is not a JSON Pointer: it must be empty or start with \"/\", such as \"/structuredContent/agentEmail\""
                    )
                    continue
                }
                result.exemptPointers.append(segments)
            }
            result.exemptValues = Set(decoder.stringArray(exempt, "values", at: "/masking/exempt") ?? [])
        }
        return result
    }

    static func decodePatterns(_ decoder: inout PersonaDecoder, _ value: JSONValue?) -> [CustomPattern] {
        guard let value else { return [] }
        guard case .array(let elements) = value else {
            decoder.error(
                at: "/masking/patterns", "\"patterns\" must be an array of {\"name\", \"regex\"}, not \(value.typeName)"
            )
            return []
        }
        var patterns: [CustomPattern] = []
        for (index, element) in elements.enumerated() {
            let pointer = "/masking/patterns/\(index)"
            guard let object = decoder.object(element, at: pointer, what: "a masking pattern") else { continue }
            decoder.rejectUnknownKeys(object, at: pointer, allowed: patternKeys, context: "a masking pattern")
            guard let name = decoder.string(object, "name", at: pointer, required: true, what: "a masking pattern"),
                let regex = decoder.string(object, "regex", at: pointer, required: true, what: "a masking pattern")
            else { continue }
            guard
                name.utf8.allSatisfy({
                    $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0)
                        || (0x30...0x39).contains($0)
                })
            else {
                decoder.error(
                    at: pointer + "/name",
                    "pattern name \"\(name)\" may use only lowercase letters, digits, \"-\" and \"_\" (it appears in [masked:NAME])"
                )
                continue
            }
            if DetectorSet.builtInNames.contains(name) || patterns.contains(where: { $0.name == name }) {
                decoder.error(
                    at: pointer + "/name", "pattern name \"\(name)\" is already taken; give it a name of its own")
                continue
            }
            do {
                _ = try DetectorSet(builtIn: [], custom: [CustomPattern(name: name, pattern: regex)])
            } catch {
                decoder.error(at: pointer + "/regex", "\(error)")
                continue
            }
            patterns.append(CustomPattern(name: name, pattern: regex))
        }
        return patterns
    }

    /// `"all"` (every built-in and every pattern of the persona), or a list of names; absent means `"all"`.
    static func decodeDetectorChoice(
        _ decoder: inout PersonaDecoder, _ value: JSONValue?, at pointer: String, known: [String]
    ) -> [String] {
        guard let value else { return known }
        if case .string("all") = value { return known }
        guard case .array(let elements) = value else {
            decoder.error(
                at: pointer, "\"detectors\" must be \"all\" or a list of detector names, not \(value.typeName)")
            return known
        }
        var names: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let name) = element else {
                decoder.error(at: "\(pointer)/\(index)", "detector names must be strings, not \(element.typeName)")
                continue
            }
            guard known.contains(name) else {
                var message = "unknown detector \"\(name)\""
                if let suggestion = closestMatch(to: name, in: known) {
                    message += " (did you mean \"\(suggestion)\"?)"
                } else {
                    message += "; the detectors are " + known.map { "\"\($0)\"" }.joined(separator: ", ")
                }
                decoder.error(at: "\(pointer)/\(index)", message)
                continue
            }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }
}

/// Exemption pointers: RFC 6901 JSON Pointers, plus `*` as a segment matching any member or element.
enum MaskingPointer {
    static func segments(_ pointer: String) -> [String]? {
        guard pointer.isEmpty || pointer.hasPrefix("/"), let parsed = try? JSONPointer(pointer) else { return nil }
        return parsed.tokens
    }

    /// Whether `path` lies at or under one of `pointers`.
    static func isExempt(_ path: [String], _ pointers: [[String]]) -> Bool {
        pointers.contains { pointer in
            pointer.count <= path.count && zip(pointer, path).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    static func text(_ path: [String]) -> String {
        path.map { "/" + JSONReader.escapePointer($0) }.joined()
    }
}
