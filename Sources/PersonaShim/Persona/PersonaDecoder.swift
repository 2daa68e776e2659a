/// Reads typed fields out of a parsed JSON document and reports problems at their line and column.
///
/// Each section of the persona (servers, tools, audit, and the sections later versions add) is decoded by a
/// small function over this type, so a new section is one more function and one more allowed key.
struct PersonaDecoder {
    let file: String
    let locations: JSONLocations
    let lines: LineTable
    var diagnostics: [Diagnostic] = []
    /// For a persona flattened from an inheritance chain: which file and place each value came from.
    var origins: PersonaOrigins?

    init(file: String, bytes: [UInt8], locations: JSONLocations) {
        self.file = file
        self.locations = locations
        self.lines = LineTable(bytes)
    }

    mutating func report(_ severity: Diagnostic.Severity, at pointer: String, key: Bool = false, _ message: String) {
        if let origins {
            let place = origins.locate(pointer, key: key)
            return diagnostics.append(
                Diagnostic(severity, message, file: place.file, line: place.line, column: place.column))
        }
        let offset = (key ? locations.keyOffsets[pointer] : nil) ?? locations.offsets[pointer]
        let position = offset.map { lines.position(of: $0) }
        diagnostics.append(Diagnostic(severity, message, file: file, line: position?.line, column: position?.column))
    }

    mutating func error(at pointer: String, key: Bool = false, _ message: String) {
        report(.error, at: pointer, key: key, message)
    }

    /// Reports every key of `object` not in `allowed`; a typo must never silently widen or narrow access.
    mutating func rejectUnknownKeys(_ object: JSONObject, at pointer: String, allowed: [String], context: String) {
        for key in object.keys where !allowed.contains(key) {
            var message = "unknown key \"\(key)\" in \(context)"
            if let suggestion = closestMatch(to: key, in: allowed) {
                message += " (did you mean \"\(suggestion)\"?)"
            } else {
                message += "; allowed keys are " + allowed.map { "\"\($0)\"" }.joined(separator: ", ")
            }
            error(at: pointer + "/" + JSONReader.escapePointer(key), key: true, message)
        }
    }

    mutating func object(_ value: JSONValue?, at pointer: String, what: String) -> JSONObject? {
        guard let value else { return nil }
        guard case .object(let object) = value else {
            error(at: pointer, "\(what) must be an object, not \(value.typeName)")
            return nil
        }
        return object
    }

    mutating func string(
        _ object: JSONObject, _ key: String, at pointer: String, required: Bool = false, what: String? = nil
    ) -> String? {
        let memberPointer = pointer + "/" + key
        guard let value = object[key] else {
            if required { error(at: pointer, "missing required key \"\(key)\" in \(what ?? "this object")") }
            return nil
        }
        guard case .string(let string) = value else {
            error(at: memberPointer, "\"\(key)\" must be a string, not \(value.typeName)")
            return nil
        }
        if required && string.allSatisfy(\.isWhitespace) {
            error(at: memberPointer, "\"\(key)\" must not be empty")
            return nil
        }
        return string
    }

    mutating func stringArray(_ object: JSONObject, _ key: String, at pointer: String) -> [String]? {
        let memberPointer = pointer + "/" + key
        guard let value = object[key] else { return nil }
        guard case .array(let elements) = value else {
            error(at: memberPointer, "\"\(key)\" must be an array of strings, not \(value.typeName)")
            return nil
        }
        var strings: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let string) = element else {
                error(at: "\(memberPointer)/\(index)", "\"\(key)\" must contain only strings, not \(element.typeName)")
                continue
            }
            strings.append(string)
        }
        return strings
    }

    mutating func stringMap(_ object: JSONObject, _ key: String, at pointer: String) -> [String: String]? {
        let memberPointer = pointer + "/" + key
        guard let value = object[key] else { return nil }
        guard case .object(let members) = value else {
            error(at: memberPointer, "\"\(key)\" must be an object of strings, not \(value.typeName)")
            return nil
        }
        var map: [String: String] = [:]
        for (name, element) in members.members {
            guard case .string(let string) = element else {
                error(
                    at: memberPointer + "/" + JSONReader.escapePointer(name),
                    "\"\(key).\(name)\" must be a string, not \(element.typeName)")
                continue
            }
            map[name] = string
        }
        return map
    }

    mutating func bool(_ object: JSONObject, _ key: String, at pointer: String) -> Bool? {
        guard let value = object[key] else { return nil }
        guard case .bool(let bool) = value else {
            error(at: pointer + "/" + key, "\"\(key)\" must be true or false, not \(value.typeName)")
            return nil
        }
        return bool
    }

    mutating func positiveNumber(_ object: JSONObject, _ key: String, at pointer: String) -> Double? {
        guard let value = object[key] else { return nil }
        guard let number = value.doubleValue, number > 0, number.isFinite else {
            error(at: pointer + "/" + key, "\"\(key)\" must be a positive number, not \(value)")
            return nil
        }
        return number
    }

    /// A whole number of bytes between 1 KiB and 1 GiB: smaller would refuse ordinary messages, larger would let
    /// one message take the machine's memory.
    mutating func byteCount(_ object: JSONObject, _ key: String, at pointer: String) -> Int? {
        guard let value = object[key] else { return nil }
        guard let number = value.doubleValue, number == number.rounded(), number >= 1024, number <= 1_073_741_824 else {
            error(
                at: pointer + "/" + key,
                "\"\(key)\" must be a whole number of bytes from 1024 to 1073741824 (1 GiB), not \(value)")
            return nil
        }
        return Int(number)
    }

    mutating func date(_ object: JSONObject, _ key: String, at pointer: String) -> CalendarDate? {
        guard let text = string(object, key, at: pointer) else { return nil }
        guard let date = CalendarDate(text) else {
            error(at: pointer + "/" + key, "\"\(key)\" must be a date written YYYY-MM-DD, not \"\(text)\"")
            return nil
        }
        return date
    }
}
