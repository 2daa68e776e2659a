#if canImport(Glibc)
    import Glibc
#endif

/// The canonical form of JSON (keys sorted by UTF-16 code units, no whitespace, numbers as written), written
/// straight from validated text without building a tree, and its SHA-256 digest as the audit records it.
///
/// The direct path covers what tool arguments nearly always are: ASCII strings without escapes. Anything else
/// (an escape, a non-ASCII byte, a repeated key) goes through `JSONValue` and `JSONWriter`, so both paths give
/// the same bytes for the same document.
enum CanonicalJSON {
    /// `sha256:` and the hex digest of the canonical form of the value at `range` of `bytes` (`{}` when nil).
    /// Throws what the parser says of a value it does not accept (a key repeated at any depth).
    static func digest(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>?) throws(JSONSyntaxError) -> [UInt8] {
        var canonical: [UInt8] = []
        canonical.reserveCapacity(range.map { $0.count + 16 } ?? 2)
        if let range {
            if !append(bytes, range, to: &canonical) {
                canonical.removeAll(keepingCapacity: true)
                JSONWriter.append(try JSONValue.parse(bytes, range: range), to: &canonical, canonical: true)
            }
        } else {
            canonical.append(contentsOf: "{}".utf8)
        }
        return digestText(of: canonical)
    }

    /// `sha256:` and the hex digest of `bytes`, as ASCII.
    static func digestText(of bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finalize()
        let prefix: StaticString = "sha256:"
        let hex: StaticString = "0123456789abcdef"
        return [UInt8](unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + 2 * digest.count) { text, count in
            for index in 0..<prefix.utf8CodeUnitCount { text[index] = prefix.utf8Start[index] }
            count = prefix.utf8CodeUnitCount
            for byte in digest {
                text[count] = hex.utf8Start[Int(byte >> 4)]
                text[count + 1] = hex.utf8Start[Int(byte & 0x0F)]
                count += 2
            }
        }
    }

    /// Appends the canonical form of the value at `range` (valid JSON); false when it needs the full parser.
    static func append(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, to output: inout [UInt8]) -> Bool {
        var cursor = Cursor(bytes: bytes, index: range.lowerBound, end: range.upperBound)
        return cursor.value(to: &output, depth: 0)
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index: Int
        let end: Int

        mutating func skipWhitespace() {
            while index < end {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// The range of a string starting at its quote, quotes included; nil if it has an escape or a non-ASCII
        /// byte (those are left to the full parser).
        mutating func plainString() -> Range<Int>? {
            let start = index
            index += 1
            while index < end {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<index
                }
                if byte == UInt8(ascii: "\\") || byte >= 0x80 { return nil }
                index += 1
            }
            return nil
        }

        mutating func value(to output: inout [UInt8], depth: Int) -> Bool {
            guard depth < JSONReader.maximumDepth else { return false }
            skipWhitespace()
            guard index < end else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object(to: &output, depth: depth)
            case UInt8(ascii: "["):
                index += 1
                output.append(UInt8(ascii: "["))
                skipWhitespace()
                if index < end && bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    output.append(UInt8(ascii: "]"))
                    return true
                }
                while true {
                    guard value(to: &output, depth: depth + 1) else { return false }
                    skipWhitespace()
                    guard index < end else { return false }
                    let next = bytes[index]
                    index += 1
                    output.append(next)
                    if next == UInt8(ascii: "]") { return true }
                    guard next == UInt8(ascii: ",") else { return false }
                }
            case UInt8(ascii: "\""):
                guard let string = plainString() else { return false }
                output.append(contentsOf: bytes[string])
                return true
            default:
                // A number (kept as written) or a literal: everything up to the next delimiter.
                let start = index
                while index < end {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                        output.append(contentsOf: bytes[start..<index])
                        return true
                    default: index += 1
                    }
                }
                output.append(contentsOf: bytes[start..<index])
                return true
            }
        }

        /// An object's members in key order. Each value is located first, then written in order.
        mutating func object(to output: inout [UInt8], depth: Int) -> Bool {
            index += 1
            var members: [(key: Range<Int>, value: Int)] = []
            skipWhitespace()
            if index < end && bytes[index] == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    guard index < end, bytes[index] == UInt8(ascii: "\""), let key = plainString() else { return false }
                    skipWhitespace()
                    guard index < end, bytes[index] == UInt8(ascii: ":") else { return false }
                    index += 1
                    members.append((key, index))
                    var reader = JSONReader(bytes, range: index..<end)
                    guard (try? reader.skipValue(depth: depth + 1)) != nil else { return false }
                    index = reader.index
                    skipWhitespace()
                    guard index < end else { return false }
                    let next = bytes[index]
                    index += 1
                    if next == UInt8(ascii: "}") { break }
                    guard next == UInt8(ascii: ",") else { return false }
                }
            }
            // ASCII keys: byte order is UTF-16 order. Compared without their quotes, so "a" sorts before "a ".
            let base = bytes.baseAddress!
            func order(_ first: Range<Int>, _ second: Range<Int>) -> Int32 {
                let shared = min(first.count, second.count) - 2
                let compared = memcmp(base + first.lowerBound + 1, base + second.lowerBound + 1, shared)
                if compared != 0 { return compared }
                return first.count == second.count ? 0 : (first.count < second.count ? -1 : 1)
            }
            if members.count > 1 { members.sort { order($0.key, $1.key) < 0 } }
            let bytes = self.bytes
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 {
                    // A repeated key: which copy counts is the full parser's call.
                    if order(members[position - 1].key, member.key) == 0 { return false }
                    output.append(UInt8(ascii: ","))
                }
                output.append(contentsOf: bytes[member.key])
                output.append(UInt8(ascii: ":"))
                var inner = Cursor(bytes: bytes, index: member.value, end: end)
                guard inner.value(to: &output, depth: depth + 1) else { return false }
            }
            output.append(UInt8(ascii: "}"))
            return true
        }
    }
}
