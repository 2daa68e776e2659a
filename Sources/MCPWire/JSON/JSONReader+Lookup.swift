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
