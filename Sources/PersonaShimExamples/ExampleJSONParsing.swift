// A strict recursive-descent JSON parser producing ExampleJSON.

/// Why a text is not JSON; `offset` is a byte offset into the input.
package struct ExampleJSONError: Error, CustomStringConvertible {
    package var message: String
    package var offset: Int
    package var description: String { "\(message) at byte \(offset)" }
}

extension ExampleJSON {
    /// Parses one JSON text (surrounding whitespace allowed, nothing else).
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ExampleJSONError) -> ExampleJSON {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("Unexpected trailing data") }
        return value
    }

    /// Parses one JSON text held in a String.
    package static func parse(_ text: String) throws(ExampleJSONError) -> ExampleJSON {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(ExampleJSONError) -> ExampleJSON in
            try parse(buffer)
        }
    }
}

extension RawJSONScanner {
    /// Decodes the inside of a JSON string literal (no quotes), resolving escapes.
    ///
    /// The scanner needs it only when a method or tool name contains a backslash (Python's json.dumps, for one,
    /// sends non-ASCII names as `\u` escapes).
    package static func decodeStringContents(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var parser = JSONParser(bytes: bytes)
        return try? parser.parseStringBody(terminatedByQuote: false)
    }
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Deeper nesting is refused rather than risking the stack on hostile input.
    static let maximumDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    func error(_ message: String) -> ExampleJSONError {
        ExampleJSONError(message: message, offset: index)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(ExampleJSONError) -> ExampleJSON {
        guard depth < Self.maximumDepth else { throw error("Nesting too deep") }
        guard index < bytes.count else { throw error("Unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""):
            index += 1
            return .string(try parseStringBody(terminatedByQuote: true))
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("Unexpected character")
        }
    }

    private mutating func parseLiteral(
        _ word: StaticString, _ value: ExampleJSON
    ) throws(ExampleJSONError) -> ExampleJSON {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("Invalid literal") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw error("Invalid literal")
        }
        index += count
        return value
    }

    private mutating func parseObject(depth: Int) throws(ExampleJSONError) -> ExampleJSON {
        index += 1
        var pairs: [(String, ExampleJSON)] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(pairs)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("Expected object key") }
            index += 1
            let key = try parseStringBody(terminatedByQuote: true)
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("Expected ':'") }
            index += 1
            skipWhitespace()
            pairs.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw error("Unterminated object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(pairs)
            } else {
                throw error("Expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(ExampleJSONError) -> ExampleJSON {
        index += 1
        var items: [ExampleJSON] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("Unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            } else {
                throw error("Expected ',' or ']'")
            }
        }
    }

    private mutating func parseNumber() throws(ExampleJSONError) -> ExampleJSON {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        skipDigits()
        guard index > digitsStart else { throw error("Invalid number") }
        if bytes[digitsStart] == UInt8(ascii: "0") && index - digitsStart > 1 { throw error("Leading zero in number") }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fractionStart = index
            skipDigits()
            guard index > fractionStart else { throw error("Invalid number") }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            let exponentStart = index
            skipDigits()
            guard index > exponentStart else { throw error("Invalid number") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        // Integers too large for Int64 degrade to doubles, as in JavaScript.
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text) else { throw error("Invalid number") }
        return .double(value)
    }

    private mutating func skipDigits() {
        while index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9") {
            index += 1
        }
    }

    /// Reads string contents up to the closing quote (consumed) or, when `terminatedByQuote` is false, to the end.
    mutating func parseStringBody(terminatedByQuote: Bool) throws(ExampleJSONError) -> String {
        var run = index
        var result = ""
        // Unescaped stretches are copied in bulk; only escapes are decoded one by one.
        func flush(upTo end: Int) {
            if end > run { result += String(decoding: UnsafeBufferPointer(rebasing: bytes[run..<end]), as: UTF8.self) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") && terminatedByQuote {
                flush(upTo: index)
                index += 1
                return result
            } else if byte == UInt8(ascii: "\\") {
                flush(upTo: index)
                index += 1
                result.unicodeScalars.append(try parseEscape())
                run = index
            } else if byte < 0x20 {
                throw error("Control character in string")
            } else {
                index += 1
            }
        }
        guard !terminatedByQuote else { throw error("Unterminated string") }
        flush(upTo: index)
        return result
    }

    private mutating func parseEscape() throws(ExampleJSONError) -> Unicode.Scalar {
        guard index < bytes.count else { throw error("Unterminated escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHex4()
            if (0xD800..<0xDC00).contains(first), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
            {
                let save = index
                index += 2
                let second = try parseHex4()
                if (0xDC00..<0xE000).contains(second) {
                    let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    return Unicode.Scalar(combined) ?? "\u{FFFD}"
                }
                index = save
            }
            // A lone surrogate cannot be represented in a Swift String; substitute as JSON.parse-based tools do.
            return Unicode.Scalar(first) ?? "\u{FFFD}"
        default:
            throw error("Invalid escape")
        }
    }

    private mutating func parseHex4() throws(ExampleJSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("Invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("Invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
