import Platform

/// Building `JSONValue`s, for the few messages (and persona files) whose content the shim must read as values.
extension JSONReader {
    package mutating func parseValue(depth: Int = 0, pointer: String = "", locations: JSONLocations? = nil)
        throws(JSONSyntaxError) -> JSONValue
    {
        skipWhitespace()
        locations?.offsets[pointer] = index
        guard index < end else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw fail("JSON nested too deeply") }
            index += 1
            var object = JSONObject()
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let keyOffset = index
                let key = try parseString()
                // Parsers disagree on which duplicate wins; a policy decision must never rest on that guess.
                if object.members.contains(where: { $0.key == key }) {
                    index = keyOffset
                    throw fail("duplicate key \"\(key)\"")
                }
                try expect(UInt8(ascii: ":"), "':' after an object key")
                var childPointer = ""
                if let locations {
                    childPointer = pointer + "/" + Self.escapePointer(key)
                    locations.keyOffsets[childPointer] = keyOffset
                }
                let value = try parseValue(depth: depth + 1, pointer: childPointer, locations: locations)
                object.members.append((key, value))
                skipWhitespace()
                guard let next = peek() else { throw fail("unterminated object") }
                index += 1
                if next == UInt8(ascii: "}") { return .object(object) }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or '}' in an object")
                }
            }
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw fail("JSON nested too deeply") }
            index += 1
            var array: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            while true {
                let childPointer = locations == nil ? "" : pointer + "/" + String(array.count)
                array.append(try parseValue(depth: depth + 1, pointer: childPointer, locations: locations))
                skipWhitespace()
                guard let next = peek() else { throw fail("unterminated array") }
                index += 1
                if next == UInt8(ascii: "]") { return .array(array) }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or ']' in an array")
                }
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try skipLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try skipLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try skipLiteral("null")
            return .null
        default:
            let range = try skipNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        }
    }

    /// Parses a string starting at its opening quote, resolving escapes.
    package mutating func parseString() throws(JSONSyntaxError) -> String {
        let range = try skipString()
        let body = (range.lowerBound + 1)..<(range.upperBound - 1)
        let raw = UnsafeRawBufferPointer(rebasing: bytes[body])
        if raw.isEmpty || memchr(raw.baseAddress!, Int32(UInt8(ascii: "\\")), raw.count) == nil {
            return String(decoding: raw, as: UTF8.self)
        }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(raw.count)
        Self.appendUnescaped(raw, 0..<raw.count, to: &utf8)
        return String(decoding: utf8, as: UTF8.self)
    }
}
