import Platform

/// Looking up one member of an object in place, for the per-call rules that read arguments without building a
/// `JSONValue`.
extension JSONReader {
    /// What `member(named:in:of:)` found.
    package enum MemberLookup: Equatable {
        /// The value's byte range (without surrounding whitespace).
        case found(Range<Int>)
        /// The object has no member of that name.
        case absent
        /// A key is not ASCII (after its escapes), so comparing bytes might not agree with `String` equality,
        /// which `JSONObject` uses; the caller must build the value instead.
        case undecided
    }

    /// The member named `key` (ASCII bytes) of the valid object at `object`. The first one named so counts; the
    /// callers' objects have no repeated keys.
    package static func member(
        named key: UnsafeRawBufferPointer, in bytes: UnsafeRawBufferPointer, of object: Range<Int>
    ) -> MemberLookup {
        var reader = JSONReader(bytes, range: object)
        var result = MemberLookup.absent
        var settled = false
        do {
            try reader.scanObject { (name, reader) throws(JSONSyntaxError) in
                if name.count == key.count, name.elementsEqual(key) {
                    result = .found(try reader.skipValue(depth: 1))
                    settled = true
                } else if name.contains(where: { $0 >= 0x80 }) {
                    result = .undecided
                    settled = true
                }
                // Stops the walk: the rest of the object was validated before.
                if settled { throw reader.fail("settled") }
                _ = try reader.skipValue(depth: 1)
            }
        } catch {
            return settled ? result : .undecided
        }
        return result
    }
}

extension JSONReader {
    /// The members named `keys` (ASCII bytes, distinct) of the valid object at `object`, in one walk: each
    /// value's range in `found` (an empty range when the object has no such member). False, with `found`
    /// incomplete, when a key has an escape or is not ASCII: then comparing bytes might not agree with
    /// `String` equality, which `JSONObject` uses, and the caller must build the value instead.
    package static func members(
        named keys: [[UInt8]], in bytes: UnsafeRawBufferPointer, of object: Range<Int>,
        into found: UnsafeMutableBufferPointer<Range<Int>>
    ) -> Bool {
        for index in keys.indices { found[index] = 0..<0 }
        var reader = JSONReader(bytes, range: object)
        guard reader.peek() == UInt8(ascii: "{") else { return false }
        reader.index += 1
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "}") { return true }
        do {
            while true {
                reader.skipWhitespace()
                guard reader.peek() == UInt8(ascii: "\"") else { return false }
                let keyRange = try reader.skipString()
                let key = UnsafeRawBufferPointer(rebasing: bytes[(keyRange.lowerBound + 1)..<(keyRange.upperBound - 1)])
                for byte in key where byte >= 0x80 || byte == UInt8(ascii: "\\") { return false }
                try reader.expect(UInt8(ascii: ":"), "':' after an object key")
                let value = try reader.skipValue(depth: 1)
                for index in keys.indices where found[index].isEmpty && keys[index].count == key.count {
                    if keys[index].withUnsafeBufferPointer({ wanted in
                        var offset = 0
                        while offset < key.count && wanted[offset] == key[offset] { offset += 1 }
                        return offset == key.count
                    }) {
                        found[index] = value
                    }
                }
                reader.skipWhitespace()
                guard let next = reader.peek() else { return false }
                reader.index += 1
                if next == UInt8(ascii: "}") { return true }
                guard next == UInt8(ascii: ",") else { return false }
            }
        } catch {
            return false
        }
    }
}
