import Platform

/// Where canonical JSON goes: an array (to look at it) or straight into a hash (to digest it).
package protocol CanonicalSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer)
    mutating func write(byte: UInt8)
}

extension [UInt8]: CanonicalSink {
    package mutating func write(_ bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
    package mutating func write(byte: UInt8) { append(byte) }
}

/// Hashes what is written, gathering small writes in a stack buffer so the hasher sees a few large updates.
private struct HashingSink: CanonicalSink {
    var hasher = SHA256()
    let buffer: UnsafeMutableRawBufferPointer
    var count = 0

    @inline(__always) mutating func write(_ bytes: UnsafeRawBufferPointer) {
        if count + bytes.count > buffer.count {
            drain()
            if bytes.count > buffer.count { return hasher.update(bytes) }
        }
        if let source = bytes.baseAddress {
            (buffer.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    @inline(__always) mutating func write(byte: UInt8) {
        if count == buffer.count { drain() }
        buffer[count] = byte
        count += 1
    }

    mutating func drain() {
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        count = 0
    }
}

/// The canonical form of JSON (keys sorted by UTF-16 code units, no whitespace, numbers as written), written
/// straight from validated text without building a tree, and its SHA-256 digest as the audit records it.
///
/// The direct path covers what tool arguments nearly always are: ASCII strings without escapes. Anything else
/// (an escape, a non-ASCII byte, a repeated key) goes through `JSONValue` and `JSONWriter`, so both paths give
/// the same bytes for the same document.
package enum CanonicalJSON {
    /// The SHA-256 of the canonical form of the value at `range` of `bytes` (`{}` when nil).
    /// Throws what the parser says of a value it does not accept (a key repeated at any depth).
    package static func digest(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>?) throws(JSONSyntaxError)
        -> SHA256.Digest
    {
        guard let range else {
            var hasher = SHA256()
            hasher.update("{}")
            return hasher.finalizeDigest()
        }
        let direct = withUnsafeTemporaryAllocation(byteCount: 512, alignment: 8) { buffer -> SHA256.Digest? in
            var sink = HashingSink(buffer: buffer)
            guard append(bytes, range, to: &sink) else { return nil }
            sink.drain()
            return sink.hasher.finalizeDigest()
        }
        if let direct { return direct }
        var canonical: [UInt8] = []
        JSONWriter.append(try JSONValue.parse(bytes, range: range), to: &canonical, canonical: true)
        var hasher = SHA256()
        canonical.withUnsafeBytes { hasher.update($0) }
        return hasher.finalizeDigest()
    }

    /// Writes the canonical form of the value at `range` (valid JSON); false when it needs the full parser (what
    /// was written by then is to be thrown away).
    package static func append(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, to output: inout some CanonicalSink
    ) -> Bool {
        var cursor = Cursor(bytes: bytes, index: range.lowerBound, end: range.upperBound)
        return cursor.value(to: &output, depth: 0)
    }

    private struct Member {
        var key: Range<Int>
        var value: Int
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

        mutating func value(to output: inout some CanonicalSink, depth: Int) -> Bool {
            guard depth < JSONReader.maximumDepth else { return false }
            skipWhitespace()
            guard index < end else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                // Members are gathered on the stack; an object with more of them than fit takes the heap.
                let start = index
                let onStack = withUnsafeTemporaryAllocation(of: Member.self, capacity: 16) { storage in
                    object(to: &output, depth: depth, members: storage)
                }
                if let onStack { return onStack }
                index = start
                var members = [Member](repeating: Member(key: 0..<0, value: 0), count: (end - start) / 4 + 1)
                return members.withUnsafeMutableBufferPointer { object(to: &output, depth: depth, members: $0) }
                    ?? false
            case UInt8(ascii: "["):
                index += 1
                output.write(byte: UInt8(ascii: "["))
                skipWhitespace()
                if index < end && bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    output.write(byte: UInt8(ascii: "]"))
                    return true
                }
                while true {
                    guard value(to: &output, depth: depth + 1) else { return false }
                    skipWhitespace()
                    guard index < end else { return false }
                    let next = bytes[index]
                    index += 1
                    output.write(byte: next)
                    if next == UInt8(ascii: "]") { return true }
                    guard next == UInt8(ascii: ",") else { return false }
                }
            case UInt8(ascii: "\""):
                guard let string = plainString() else { return false }
                output.write(UnsafeRawBufferPointer(rebasing: bytes[string]))
                return true
            default:
                // A number (kept as written) or a literal: everything up to the next delimiter.
                let start = index
                while index < end {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                        output.write(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                        return true
                    default: index += 1
                    }
                }
                output.write(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                return true
            }
        }

        /// An object's members in key order: each value is located first, then written in order. Nil when the
        /// object has more members than `members` holds.
        mutating func object(
            to output: inout some CanonicalSink, depth: Int, members: UnsafeMutableBufferPointer<Member>
        ) -> Bool? {
            index += 1
            var count = 0
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
                    guard count < members.count else { return nil }
                    members[count] = Member(key: key, value: index)
                    count += 1
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
            var used = UnsafeMutableBufferPointer(rebasing: members[0..<count])
            if count > 1 { used.sort { order($0.key, $1.key) < 0 } }
            output.write(byte: UInt8(ascii: "{"))
            for position in 0..<count {
                let member = used[position]
                if position > 0 {
                    // A repeated key: which copy counts is the full parser's call.
                    if order(used[position - 1].key, member.key) == 0 { return false }
                    output.write(byte: UInt8(ascii: ","))
                }
                output.write(UnsafeRawBufferPointer(rebasing: bytes[member.key]))
                output.write(byte: UInt8(ascii: ":"))
                var inner = Cursor(bytes: bytes, index: member.value, end: end)
                guard inner.value(to: &output, depth: depth + 1) else { return false }
            }
            output.write(byte: UInt8(ascii: "}"))
            return true
        }
    }
}
