import Platform

/// The scanned bytes with bounds-checked reads: outside the text reads as 0, which no scanner treats as part of a
/// token, so edges behave like a boundary without a check at every call site.
struct ScanText {
    let bytes: UnsafePointer<UInt8>
    let count: Int

    @inline(__always) subscript(_ index: Int) -> UInt8 {
        index >= 0 && index < count ? bytes[index] : 0
    }

    /// Whether `literal` (ASCII) appears at `index`.
    @inline(__always) func has(_ literal: StaticString, at index: Int) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index >= 0, index + length <= count else { return false }
        return memcmp(bytes + index, literal.utf8Start, length) == 0
    }

    /// Whether `literal` (lowercase ASCII letters) appears at `index` in any case.
    func hasIgnoringCase(_ literal: StaticString, at index: Int) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index >= 0, index + length <= count else { return false }
        let pattern = literal.utf8Start
        for offset in 0..<length where bytes[index + offset] | 0x20 != pattern[offset] { return false }
        return true
    }

    /// The end of the run of bytes from `start` that satisfy `belongs`.
    @inline(__always) func runEnd(from start: Int, while belongs: (UInt8) -> Bool) -> Int {
        var end = start
        while end < count && belongs(bytes[end]) { end += 1 }
        return end
    }

    /// `runEnd`, stopping at `limit` at the latest.
    @inline(__always) func runEnd(from start: Int, limit: Int, while belongs: (UInt8) -> Bool) -> Int {
        var end = start
        let stop = min(limit, count)
        while end < stop && belongs(bytes[end]) { end += 1 }
        return end
    }

    /// The first index at or after `start` where `literal` occurs.
    func find(_ literal: StaticString, from start: Int) -> Int? {
        let length = literal.utf8CodeUnitCount
        let first = Int32(literal.utf8Start[0])
        var index = start
        while index + length <= count {
            guard let hit = memchr(bytes + index, first, count - length + 1 - index) else { return nil }
            let position = bytes.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(bytes + position, literal.utf8Start, length) == 0 { return position }
            index = position + 1
        }
        return nil
    }
}

/// ASCII byte classes; everything non-ASCII is outside every class.
enum Byte {
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }
    @inline(__always) static func isUpper(_ byte: UInt8) -> Bool { byte &- 0x41 < 26 }
    @inline(__always) static func isLower(_ byte: UInt8) -> Bool { byte &- 0x61 < 26 }
    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ byte: UInt8) -> Bool { isDigit(byte) || isLetter(byte) }
    /// Letters, digits and `_`: what continues an identifier, so a match must not touch one on either side.
    @inline(__always) static func isWord(_ byte: UInt8) -> Bool { isAlnum(byte) || byte == 0x5F }
    @inline(__always) static func isUpperAlnum(_ byte: UInt8) -> Bool { isDigit(byte) || isUpper(byte) }
    @inline(__always) static func isBase64URL(_ byte: UInt8) -> Bool {
        isAlnum(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
    @inline(__always) static func isBase64(_ byte: UInt8) -> Bool {
        isAlnum(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
    }
}
