import Platform

/// A JSON syntax error at a byte offset of the input.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let message: String

    public var description: String { "\(message) at byte \(offset)" }
}

/// Records the byte offset of every value by JSON Pointer, so diagnostics can point at a line and column.
package final class JSONLocations {
    package var offsets: [String: Int] = [:]
    /// Offsets of object keys, by the pointer of the member they name.
    package var keyOffsets: [String: Int] = [:]

    package init() {}
}

/// A cursor over UTF-8 JSON text that can either skip a value (validating it) or build a `JSONValue`.
///
/// Skipping is what the hot path uses: a message is validated and its top-level members located
/// without allocating a tree, so what is forwarded can be the peer's original bytes.
package struct JSONReader {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let end: Int
    static let maximumDepth = 256

    package init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.bytes = bytes
        self.index = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
    }

    @inline(__always) func peek() -> UInt8? { index < end ? bytes[index] : nil }

    func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, message: message) }

    @inline(__always) mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    @inline(__always) mutating func expect(_ byte: UInt8, _ what: StaticString) throws(JSONSyntaxError) {
        skipWhitespace()
        guard index < end, bytes[index] == byte else { throw expected(what) }
        index += 1
    }

    @inline(never) func expected(_ what: StaticString) -> JSONSyntaxError { fail("expected \(what)") }

    /// The integer written in `range` (an optional minus and up to 18 digits), or nil for anything else.
    package static func integer(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        var position = range.lowerBound
        let negative = position < range.upperBound && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        guard position < range.upperBound, range.upperBound - position <= 18 else { return nil }
        var value = 0
        while position < range.upperBound {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
            position += 1
        }
        return negative ? -value : value
    }

    /// Skips the remaining whitespace and fails if anything else follows.
    mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if index < end { throw fail("unexpected text after the JSON value") }
    }

    // MARK: Skipping

    /// Validates and skips one value; returns its byte range.
    mutating func skipValue(depth: Int = 0) throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = index
        guard index < end else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw fail("JSON nested too deeply") }
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return start..<index
            }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                _ = try skipString()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek() else { throw fail("unterminated object") }
                index += 1
                if next == UInt8(ascii: "}") { return start..<index }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or '}' in an object")
                }
            }
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw fail("JSON nested too deeply") }
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return start..<index
            }
            while true {
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek() else { throw fail("unterminated array") }
                index += 1
                if next == UInt8(ascii: "]") { return start..<index }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or ']' in an array")
                }
            }
        case UInt8(ascii: "\""):
            return try skipString()
        case UInt8(ascii: "t"):
            try skipLiteral("true")
        case UInt8(ascii: "f"):
            try skipLiteral("false")
        case UInt8(ascii: "n"):
            try skipLiteral("null")
        default:
            _ = try skipNumber()
        }
        return start..<index
    }

    /// Walks an object, validating it; `member` gets each key (escapes resolved) and must consume its value.
    mutating func scanObject(
        depth: Int = 0, _ member: (UnsafeRawBufferPointer, inout JSONReader) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "{"), "an object")
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyRange = try skipString()
            try expect(UInt8(ascii: ":"), "':' after an object key")
            let rawKey = UnsafeRawBufferPointer(rebasing: bytes[(keyRange.lowerBound + 1)..<(keyRange.upperBound - 1)])
            if Self.hasBackslash(rawKey) {
                var keyReader = JSONReader(bytes, range: keyRange)
                let decoded = Array(try keyReader.parseString().utf8)
                try withBytes(decoded) { (key) throws(JSONSyntaxError) in try member(key, &self) }
            } else {
                try member(rawKey, &self)
            }
            skipWhitespace()
            guard let next = peek() else { throw fail("unterminated object") }
            index += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw fail("expected ',' or '}' in an object")
            }
        }
    }

    /// Whether a key needs its escapes decoded. Short keys (most) are walked; long ones, such as the
    /// `io.modelcontextprotocol/` keys of `_meta`, are searched with `memchr`: walking 40 bytes one at a time cost
    /// more than all the rest of handling the key.
    @inline(__always) static func hasBackslash(_ key: UnsafeRawBufferPointer) -> Bool {
        key.count > 16
            ? memchr(key.baseAddress!, Int32(UInt8(ascii: "\\")), key.count) != nil : key.contains(UInt8(ascii: "\\"))
    }

    mutating func skipLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard end - index >= count else { throw fail("invalid literal") }
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw fail("invalid literal")
        }
        index += count
    }

    /// Skips a string starting at its opening quote; returns the range including both quotes.
    @inline(__always) mutating func skipString() throws(JSONSyntaxError) -> Range<Int> {
        let start = index
        index += 1
        let base = bytes.baseAddress!
        while index < end {
            // Step 8 bytes at a time to the first byte that needs a look (quote, backslash, control character).
            while index + 8 <= end {
                let mask = Self.attentionMask(UInt64(littleEndian: (base + index).loadUnaligned(as: UInt64.self)))
                if mask != 0 {
                    index += mask.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < end else { break }
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<index
            }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < end else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    try skipUnicodeEscape()
                default:
                    throw fail("invalid escape in a string")
                }
                continue
            }
            if byte >= 0x80 {
                try skipNonASCII()
                continue
            }
            if byte < 0x20 { throw fail("unescaped control character in a string") }
            index += 1
        }
        index = start
        throw fail("unterminated string")
    }

    mutating func skipNumber() throws(JSONSyntaxError) -> Range<Int> {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw fail("invalid value") }
        index += 1
        if first != UInt8(ascii: "0") {
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let byte = peek(), Self.isDigit(byte) else { throw fail("expected a digit after '.'") }
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), Self.isDigit(digit) else { throw fail("expected a digit in an exponent") }
            while let byte = peek(), Self.isDigit(byte) { index += 1 }
        }
        return start..<index
    }

    /// A mask whose lowest set bit lies in the first of the 8 bytes (little-endian) that is a quote, a backslash, a
    /// control character or not ASCII (to be validated as UTF-8); zero when there is none. Bits above the lowest may be false alarms (a borrow carries
    /// upwards), so only the lowest is used.
    @inline(__always) static func attentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroInQuote = (quote &- ones) & ~quote & highs
        let zeroInBackslash = (backslash &- ones) & ~backslash & highs
        let control = (word &- ones &* 0x20) & ~word & highs
        return zeroInQuote | zeroInBackslash | control | (word & highs)
    }

    /// Whether `bytes` are exactly the text of `literal`.
    @inline(__always) static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount
            && (bytes.count == 0 || memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0)
    }

    /// Whether `range` of `bytes` is exactly the text of `literal`.
    @inline(__always) static func equals(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString
    ) -> Bool {
        equals(UnsafeRawBufferPointer(rebasing: bytes[range]), literal)
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    package static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    package static func escapePointer(_ key: String) -> String {
        guard key.contains("~") || key.contains("/") else { return key }
        return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
