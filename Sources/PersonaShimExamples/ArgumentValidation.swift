// Checks tool arguments against the subset of JSON Schema the example tools use.
//
// Models get arguments wrong in ordinary ways (a string where an integer belongs, a misspelt property); the spec asks
// servers to report that as a tool execution error so the model can retry, which needs a readable sentence rather
// than a crash or a JSON-RPC error.

extension ExampleJSON {
    /// The first way this value violates `schema`, as a sentence naming the offending path; nil when it conforms.
    ///
    /// Understood keywords: type, properties, required, additionalProperties (false), items, enum, minimum, maximum,
    /// minLength, maxLength, minItems, maxItems, pattern. Others are ignored.
    package func violation(of schema: ExampleJSON, at path: String = "arguments") -> String? {
        if let type = schema["type"]?.stringValue, !matches(type: type) {
            return "\(path) must be \(Self.article(type)) \(type), not \(typeName)."
        }
        if case let .array(allowed)? = schema["enum"], !allowed.contains(self) {
            let list = allowed.map(\.compactText).joined(separator: ", ")
            return "\(path) must be one of \(list)."
        }
        switch self {
        case let .object(pairs): return objectViolation(pairs, schema: schema, path: path)
        case let .array(items): return arrayViolation(items, schema: schema, path: path)
        case let .string(text): return stringViolation(text, schema: schema, path: path)
        case .integer, .double: return numberViolation(schema: schema, path: path)
        case .null, .bool: return nil
        }
    }

    private func objectViolation(_ pairs: [(String, ExampleJSON)], schema: ExampleJSON, path: String) -> String? {
        let properties = schema["properties"]?.objectPairs ?? []
        if case let .array(required)? = schema["required"] {
            for case let .string(name) in required where self[name] == nil {
                return "\(path) is missing the required property \"\(name)\"."
            }
        }
        for (key, value) in pairs {
            if let propertySchema = properties.last(where: { $0.0 == key })?.1 {
                if let problem = value.violation(of: propertySchema, at: "\(path).\(key)") { return problem }
            } else if schema["additionalProperties"] == .bool(false) {
                let known = properties.map { "\"\($0.0)\"" }.joined(separator: ", ")
                return "\(path) has an unknown property \"\(key)\" (expected only \(known))."
            }
        }
        return nil
    }

    private func arrayViolation(_ items: [ExampleJSON], schema: ExampleJSON, path: String) -> String? {
        if let minimum = schema["minItems"]?.integerValue, items.count < minimum {
            return "\(path) must have at least \(minimum) items."
        }
        if let maximum = schema["maxItems"]?.integerValue, items.count > maximum {
            return "\(path) must have at most \(maximum) items."
        }
        guard let itemSchema = schema["items"] else { return nil }
        for (index, item) in items.enumerated() {
            if let problem = item.violation(of: itemSchema, at: "\(path)[\(index)]") { return problem }
        }
        return nil
    }

    private func stringViolation(_ text: String, schema: ExampleJSON, path: String) -> String? {
        if let minimum = schema["minLength"]?.integerValue, text.count < minimum {
            return "\(path) must be at least \(minimum) characters long."
        }
        if let maximum = schema["maxLength"]?.integerValue, text.count > maximum {
            return "\(path) must be at most \(maximum) characters long."
        }
        if let pattern = schema["pattern"]?.stringValue, let regex = try? Regex(pattern),
            (try? regex.firstMatch(in: text)) == nil
        {
            return "\(path) must match the pattern \(pattern)."
        }
        return nil
    }

    private func numberViolation(schema: ExampleJSON, path: String) -> String? {
        let value: Double
        switch self {
        case let .integer(i): value = Double(i)
        case let .double(d): value = d
        default: return nil
        }
        if let minimum = schema["minimum"]?.numberValue, value < minimum {
            return "\(path) must be at least \(schema["minimum"]!.compactText)."
        }
        if let maximum = schema["maximum"]?.numberValue, value > maximum {
            return "\(path) must be at most \(schema["maximum"]!.compactText)."
        }
        return nil
    }

    private func matches(type: String) -> Bool {
        switch (type, self) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .integer), ("number", .double):
            return true
        case ("integer", _): return integerValue != nil
        default: return false
        }
    }

    private var numberValue: Double? {
        switch self {
        case let .integer(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }

    private var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    private static func article(_ word: String) -> String {
        word.first.map { "aeio".contains($0) } == true ? "an" : "a"
    }
}
