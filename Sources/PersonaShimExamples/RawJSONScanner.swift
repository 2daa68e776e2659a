// A non-allocating scanner that locates members of a JSON object without building values.
//
// The fixture server answers hundreds of thousands of requests per second on its hot path; it needs only the raw
// bytes of "id", the method name and a few params, so it finds them by skipping over everything else. The scanner is
// lenient (it does not fully validate numbers or literals); it is for reading well-formed client traffic fast, not for
// judging it.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte offsets into a JSON text, found by skipping rather than parsing.
package struct RawJSONScanner {
    package let bytes: UnsafeBufferPointer<UInt8>

    package init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The range of the single top-level value (whitespace trimmed), or nil when there is anything else.
    package func topLevelValue() -> Range<Int>? {
        let start = skipWhitespace(from: 0)
        guard let end = endOfValue(at: start), skipWhitespace(from: end) == bytes.count else { return nil }
        return start..<end
    }

    /// Calls `body` with each member of the object occupying `object`: the key's contents (between its quotes, escapes
    /// left as written) and the value's raw range. Returns false when `object` is not a well-shaped object.
    @inlinable
    package func forEachMember(
        in object: Range<Int>, _ body: (_ key: Range<Int>, _ value: Range<Int>) -> Void
    ) -> Bool {
        guard !object.isEmpty, bytes[object.lowerBound] == UInt8(ascii: "{") else { return false }
        var index = skipWhitespace(from: object.lowerBound + 1)
        if index < object.upperBound && bytes[index] == UInt8(ascii: "}") { return true }
        while index < object.upperBound {
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = endOfString(at: index) else { return false }
            let key = (index + 1)..<(keyEnd - 1)
            index = skipWhitespace(from: keyEnd)
            guard index < object.upperBound, bytes[index] == UInt8(ascii: ":") else { return false }
            let valueStart = skipWhitespace(from: index + 1)
            guard let valueEnd = endOfValue(at: valueStart), valueEnd <= object.upperBound else { return false }
            body(key, valueStart..<valueEnd)
            index = skipWhitespace(from: valueEnd)
            guard index < object.upperBound else { return false }
            if bytes[index] == UInt8(ascii: "}") { return index + 1 == object.upperBound }
            guard bytes[index] == UInt8(ascii: ",") else { return false }
            index = skipWhitespace(from: index + 1)
        }
        return false
    }

    /// The value of member `name` in `object`, if `object` is an object that has it (the last one wins).
    package func member(_ name: StaticString, in object: Range<Int>) -> Range<Int>? {
        var found: Range<Int>?
        _ = forEachMember(in: object) { key, value in
            if self.contents(key, equal: name) { found = value }
        }
        return found
    }

    /// Whether the bytes in `range` are exactly `literal`.
    @inlinable
    package func contents(_ range: Range<Int>, equal literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let pointer = literal.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] {
            return false
        }
        return true
    }

    /// Whether `value` is a JSON string (quotes included in the range).
    package func isString(_ value: Range<Int>) -> Bool {
        value.count >= 2 && bytes[value.lowerBound] == UInt8(ascii: "\"")
    }

    /// The decoded text of a string value (range includes the quotes); nil for non-strings.
    package func string(_ value: Range<Int>) -> String? {
        guard isString(value) else { return nil }
        let inner = UnsafeBufferPointer(rebasing: bytes[(value.lowerBound + 1)..<(value.upperBound - 1)])
        // Escape-free strings, the norm, skip the decoder.
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return RawJSONScanner.decodeStringContents(inner)
    }

    /// The value as an integer, accepting only plain optionally-negative digit runs.
    package func integer(_ value: Range<Int>) -> Int64? {
        guard !value.isEmpty else { return nil }
        return Int64(String(decoding: UnsafeBufferPointer(rebasing: bytes[value]), as: UTF8.self))
    }

    @inlinable
    package func skipWhitespace(from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { break }
            index += 1
        }
        return index
    }

    /// The index just past the value starting at `start`, or nil when none ends within the text.
    @inlinable
    package func endOfValue(at start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(at: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return endOfContainer(at: start)
        case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"):
            return nil
        default:
            // Numbers and literals run until a structural character or whitespace.
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return index
                default: index += 1
                }
            }
            return index
        }
    }

    /// The index just past the closing quote of the string starting at `start`.
    ///
    /// Jumps between quotes with memchr, so a multi-megabyte string argument costs little more than a memory scan; a
    /// quote ends the string unless an odd number of backslashes precedes it.
    @inlinable
    package func endOfString(at start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var index = start + 1
        while index < bytes.count {
            guard let found = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else { return nil }
            let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while quote - backslashes - 1 > start && bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            if backslashes % 2 == 0 { return quote + 1 }
            index = quote + 1
        }
        return nil
    }

    @inlinable
    package func endOfContainer(at start: Int) -> Int? {
        var depth = 0
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let end = endOfString(at: index) else { return nil }
                index = end
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return index + 1 }
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
