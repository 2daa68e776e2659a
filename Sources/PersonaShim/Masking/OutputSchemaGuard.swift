/// Whether masked strings keep a tool's `structuredContent` valid against its `outputSchema`. A masked value is a
/// string, so only `type` (a masked number) and constraints on its text can break: `format`, `pattern`, `enum`,
/// `const`, `minLength` and `maxLength`. Every subschema that can apply at the string's place is checked (through `properties`,
/// `patternProperties`, `additionalProperties`, `items`, `prefixItems`, `allOf`/`anyOf`/`oneOf` and local `$ref`s);
/// a place the guard cannot follow (a remote `$ref`) counts as broken, so an unverifiable result is withheld rather
/// than sent.
struct OutputSchemaGuard {
    let schema: JSONValue

    /// Why the masked text at `path` (inside `structuredContent`) would not be valid, or nil when it would.
    func violation(at path: [String], masked: String) -> String? {
        var candidates: [JSONValue] = []
        var unresolved = false
        collect(schema, path[...], into: &candidates, unresolved: &unresolved, depth: 0)
        if unresolved { return "its schema at this place could not be followed (a $ref outside the schema)" }
        for candidate in candidates {
            guard case .object(let object) = candidate else { continue }
            // A masked number turned into a string; so did nothing else, but the check is the same.
            let types = object["type"].map { $0.arrayValue ?? [$0] }?.compactMap(\.stringValue)
            if let types, !types.contains("string") {
                return "the schema requires type \(types.joined(separator: " or "))"
            }
            if case .string(let format)? = object["format"] {
                return "the schema requires format \"\(format)\""
            }
            if let allowed = object["enum"]?.arrayValue, !allowed.contains(.string(masked)) {
                return "the schema allows only an enumerated set of values"
            }
            if let constant = object["const"], constant != .string(masked) {
                return "the schema requires one constant value"
            }
            let length = masked.unicodeScalars.count
            if let maximum = object["maxLength"]?.intValue, length > maximum {
                return "the schema allows at most \(maximum) characters"
            }
            if let minimum = object["minLength"]?.intValue, length < minimum {
                return "the schema requires at least \(minimum) characters"
            }
            if case .string(let pattern)? = object["pattern"] {
                // ECMA-262 and POSIX differ; what POSIX cannot read, or does not match, counts as broken.
                guard let regex = try? PosixRegex(pattern), regex.matches(masked) else {
                    return "the schema requires the pattern \(pattern)"
                }
            }
        }
        return nil
    }

    private func collect(
        _ node: JSONValue, _ path: ArraySlice<String>, into candidates: inout [JSONValue], unresolved: inout Bool,
        depth: Int
    ) {
        guard depth < 64, case .object(let object) = node else { return }
        if case .string(let reference)? = object["$ref"] {
            if let target = resolve(reference) {
                collect(target, path, into: &candidates, unresolved: &unresolved, depth: depth + 1)
            } else {
                unresolved = true
            }
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            for branch in object[combinator]?.arrayValue ?? [] {
                collect(branch, path, into: &candidates, unresolved: &unresolved, depth: depth + 1)
            }
        }
        guard let segment = path.first else {
            candidates.append(node)
            return
        }
        let rest = path.dropFirst()
        var matched = false
        if let property = object["properties"]?[segment] {
            matched = true
            collect(property, rest, into: &candidates, unresolved: &unresolved, depth: depth + 1)
        }
        if let patterns = object["patternProperties"]?.objectValue {
            for (pattern, subschema) in patterns.members {
                if let regex = try? PosixRegex(pattern), !regex.matches(segment) { continue }
                matched = true
                collect(subschema, rest, into: &candidates, unresolved: &unresolved, depth: depth + 1)
            }
        }
        if !matched, let additional = object["additionalProperties"], additional.objectValue != nil {
            collect(additional, rest, into: &candidates, unresolved: &unresolved, depth: depth + 1)
        }
        if let index = Int(segment) {
            if let prefix = object["prefixItems"]?.arrayValue, index < prefix.count {
                collect(prefix[index], rest, into: &candidates, unresolved: &unresolved, depth: depth + 1)
            } else if let items = object["items"] {
                if case .array(let tuple) = items {
                    if index < tuple.count {
                        collect(tuple[index], rest, into: &candidates, unresolved: &unresolved, depth: depth + 1)
                    }
                } else {
                    collect(items, rest, into: &candidates, unresolved: &unresolved, depth: depth + 1)
                }
            }
        }
    }

    /// A `$ref` into this schema (`#`, `#/$defs/x`, `#/definitions/x`), or nil for anything else.
    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#"), let pointer = try? JSONPointer(String(reference.dropFirst())),
            reference == "#" || reference.hasPrefix("#/")
        else { return nil }
        var node = schema
        for token in pointer.tokens {
            if let next = node[token] {
                node = next
            } else if let index = Int(token), let next = node[index] {
                node = next
            } else {
                return nil
            }
        }
        return node
    }
}
