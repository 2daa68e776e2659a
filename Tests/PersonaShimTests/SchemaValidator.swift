import Foundation

@testable import PersonaShim

/// A validator for the part of JSON Schema draft 2020-12 the persona schema uses: enough to keep the schema and
/// the persona decoder in agreement without a dependency.
struct SchemaValidator {
    let root: JSONValue

    /// Every place `instance` breaks the schema, as `pointer: message`; empty when it is valid.
    func errors(_ instance: JSONValue) -> [String] {
        var found: [String] = []
        validate(instance, root, at: "", into: &found)
        return found
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = root
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }

    private func validate(_ value: JSONValue, _ schema: JSONValue, at pointer: String, into found: inout [String]) {
        if case .bool(let allowed) = schema {
            if !allowed { found.append("\(pointer): not allowed") }
            return
        }
        guard let keywords = schema.objectValue else { return }
        for (keyword, argument) in keywords.members {
            switch keyword {
            case "$ref":
                guard let target = argument.stringValue.flatMap(resolve) else {
                    found.append("\(pointer): unresolvable $ref \(argument)")
                    continue
                }
                validate(value, target, at: pointer, into: &found)
            case "type":
                let types = argument.arrayValue?.compactMap(\.stringValue) ?? [argument.stringValue ?? ""]
                if !types.contains(where: { Self.has(value, type: $0) }) {
                    found.append("\(pointer): expected \(types.joined(separator: " or ")), not \(value.typeName)")
                }
            case "enum":
                if !(argument.arrayValue ?? []).contains(where: { Self.equal($0, value) }) {
                    found.append("\(pointer): \(value) is not one of \(argument)")
                }
            case "const":
                if !Self.equal(argument, value) { found.append("\(pointer): \(value) is not \(argument)") }
            case "pattern":
                if let text = value.stringValue, let pattern = argument.stringValue,
                    text.range(of: pattern, options: .regularExpression) == nil
                {
                    found.append("\(pointer): \"\(text)\" does not match \(pattern)")
                }
            case "minLength":
                if let text = value.stringValue, let minimum = argument.intValue, text.count < minimum {
                    found.append("\(pointer): shorter than \(minimum)")
                }
            case "minimum", "exclusiveMinimum":
                if let number = value.doubleValue, let bound = argument.doubleValue,
                    keyword == "minimum" ? number < bound : number <= bound
                {
                    found.append("\(pointer): \(number) is below the \(keyword) \(bound)")
                }
            case "maximum":
                if let number = value.doubleValue, let bound = argument.doubleValue, number > bound {
                    found.append("\(pointer): \(number) is above the maximum \(bound)")
                }
            case "required":
                guard let object = value.objectValue else { continue }
                for key in (argument.arrayValue ?? []).compactMap(\.stringValue) where object[key] == nil {
                    found.append("\(pointer): missing required \"\(key)\"")
                }
            case "minItems":
                if let array = value.arrayValue, let minimum = argument.intValue, array.count < minimum {
                    found.append("\(pointer): fewer than \(minimum) items")
                }
            case "minProperties":
                if let object = value.objectValue, let minimum = argument.intValue, object.members.count < minimum {
                    found.append("\(pointer): fewer than \(minimum) members")
                }
            case "not":
                var scratch: [String] = []
                validate(value, argument, at: pointer, into: &scratch)
                if scratch.isEmpty { found.append("\(pointer): matches a schema it must not match") }
            case "properties", "additionalProperties", "propertyNames":
                continue
            case "items":
                for (index, element) in (value.arrayValue ?? []).enumerated() {
                    validate(element, argument, at: "\(pointer)/\(index)", into: &found)
                }
            case "oneOf", "anyOf":
                let branches = argument.arrayValue ?? []
                let passing = branches.filter { branch in
                    var scratch: [String] = []
                    validate(value, branch, at: pointer, into: &scratch)
                    return scratch.isEmpty
                }.count
                if keyword == "oneOf" ? passing != 1 : passing == 0 {
                    found.append("\(pointer): \(passing) of the \(keyword) branches match")
                }
            default:
                continue
            }
        }
        guard let object = value.objectValue else { return }
        let properties = keywords["properties"]?.objectValue ?? JSONObject()
        for (key, member) in object.members {
            let memberPointer = pointer + "/" + key
            if let names = keywords["propertyNames"] { validate(.string(key), names, at: memberPointer, into: &found) }
            if let property = properties[key] {
                validate(member, property, at: memberPointer, into: &found)
            } else if let additional = keywords["additionalProperties"] {
                if case .bool(false) = additional {
                    found.append("\(memberPointer): unknown property")
                } else {
                    validate(member, additional, at: memberPointer, into: &found)
                }
            }
        }
    }

    static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .number):
            return true
        case ("integer", .number):
            return value.doubleValue.map { $0 == $0.rounded() } ?? false
        default:
            return false
        }
    }

    /// JSON equality: numbers by value, objects regardless of key order.
    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case (.number, .number): return left.doubleValue == right.doubleValue
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)):
            return a.members.count == b.members.count
                && a.members.allSatisfy { member in b[member.key].map { equal(member.value, $0) } ?? false }
        default: return left == right
        }
    }
}
