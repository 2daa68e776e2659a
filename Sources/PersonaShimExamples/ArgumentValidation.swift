// Checks tool arguments against the subset of JSON Schema the example tools use.
//
// Models get arguments wrong in ordinary ways (a string where an integer belongs, a misspelt property); the spec asks
// servers to report that as a tool execution error so the model can retry, which needs a readable sentence rather
// than a crash or a JSON-RPC error.

import MCPWire

extension JSONValue {
    /// The first way this value violates `schema`, as a sentence naming the offending path; nil when it conforms.
    ///
    /// Understood keywords: type, properties, required, additionalProperties (false), items, enum, minimum, maximum,
    /// minLength, maxLength, minItems, maxItems, pattern. Others are ignored.
    package func violation(of schema: JSONValue, at path: String = "arguments") -> String? {
        if let type = schema["type"]?.stringValue, !matches(type: type) {
            return "\(path) must be \(Self.article(type)) \(type), not \(kindName)."
        }
        if case let .array(allowed)? = schema["enum"], !allowed.contains(self) {
            let list = allowed.map(\.description).joined(separator: ", ")
            return "\(path) must be one of \(list)."
        }
        switch self {
        case let .object(object): return objectViolation(object.members, schema: schema, path: path)
        case let .array(items): return arrayViolation(items, schema: schema, path: path)
        case let .string(text): return stringViolation(text, schema: schema, path: path)
        case .number: return numberViolation(schema: schema, path: path)
        case .null, .bool: return nil
        }
    }

    private func objectViolation(
        _ pairs: [(key: String, value: JSONValue)], schema: JSONValue, path: String
    ) -> String? {
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        if case let .array(required)? = schema["required"] {
            for case let .string(name) in required where self[name] == nil {
                return "\(path) is missing the required property \"\(name)\"."
            }
        }
        for (key, value) in pairs {
            if let propertySchema = properties[key] {
                if let problem = value.violation(of: propertySchema, at: "\(path).\(key)") { return problem }
            } else if schema["additionalProperties"] == .bool(false) {
                let known = properties.keys.map { "\"\($0)\"" }.joined(separator: ", ")
                return "\(path) has an unknown property \"\(key)\" (expected only \(known))."
            }
        }
        return nil
    }

    private func arrayViolation(_ items: [JSONValue], schema: JSONValue, path: String) -> String? {
        if let minimum = schema["minItems"]?.wholeNumber, items.count < minimum {
            return "\(path) must have at least \(minimum) items."
        }
        if let maximum = schema["maxItems"]?.wholeNumber, items.count > maximum {
            return "\(path) must have at most \(maximum) items."
        }
        guard let itemSchema = schema["items"] else { return nil }
        for (index, item) in items.enumerated() {
            if let problem = item.violation(of: itemSchema, at: "\(path)[\(index)]") { return problem }
        }
        return nil
    }

    private func stringViolation(_ text: String, schema: JSONValue, path: String) -> String? {
        if let minimum = schema["minLength"]?.wholeNumber, text.count < minimum {
            return "\(path) must be at least \(minimum) characters long."
        }
        if let maximum = schema["maxLength"]?.wholeNumber, text.count > maximum {
            return "\(path) must be at most \(maximum) characters long."
        }
        if let pattern = schema["pattern"]?.stringValue, let regex = try? Regex(pattern),
            (try? regex.firstMatch(in: text)) == nil
        {
            return "\(path) must match the pattern \(pattern)."
        }
        return nil
    }

    private func numberViolation(schema: JSONValue, path: String) -> String? {
        guard let value = doubleValue else { return nil }
        if let minimum = schema["minimum"]?.doubleValue, value < minimum {
            return "\(path) must be at least \(schema["minimum"]!)."
        }
        if let maximum = schema["maximum"]?.doubleValue, value > maximum {
            return "\(path) must be at most \(schema["maximum"]!)."
        }
        return nil
    }

    private func matches(type: String) -> Bool {
        switch (type, self) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .number):
            return true
        case ("integer", _): return wholeNumber != nil
        default: return false
        }
    }

    /// The value's type as the schema words it: an integer literal is "an integer", other numbers "a number".
    private var kindName: String {
        if case .number(let literal) = self, Int(literal) != nil { return "an integer" }
        return typeName
    }

    private static func article(_ word: String) -> String {
        word.first.map { "aeio".contains($0) } == true ? "an" : "a"
    }
}
