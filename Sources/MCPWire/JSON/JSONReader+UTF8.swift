/// What makes a JSON string valid beyond its syntax: UTF-8 that decodes, and escapes that encode characters.
extension JSONReader {
    /// Skips `uXXXX` after a backslash (at `index`), with the `\uXXXX` low half that must follow a high surrogate.
    ///
    /// A lone surrogate encodes no character: readers turn it into U+FFFD, an error or raw bytes, so two texts the
    /// audit cannot tell apart could reach a server differently.
    @inline(never) mutating func skipUnicodeEscape() throws(JSONSyntaxError) {
        guard let code = hex4(at: index + 1) else { throw fail("invalid \\u escape in a string") }
        if (0xDC00..<0xE000).contains(code) { throw fail("lone surrogate \\u escape in a string") }
        index += 5
        guard (0xD800..<0xDC00).contains(code) else { return }
        guard end - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
            let low = hex4(at: index + 2), (0xDC00..<0xE000).contains(low)
        else {
            index -= 6
            throw fail("lone surrogate \\u escape in a string")
        }
        index += 6
    }

    /// The value of the four hex digits at `position`, or nil.
    fileprivate func hex4(at position: Int) -> UInt32? {
        guard end - position >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            guard let digit = Self.hexValue(bytes[position + offset]) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    /// Skips the run of UTF-8 multi-byte characters at `index`, validating each (RFC 3629: no overlong forms, no
    /// surrogates, nothing above U+10FFFF). JSON text is UTF-8, and bytes that decode to nothing would be forwarded
    /// as written yet read differently by each peer (and by the audit digest).
    @inline(never) mutating func skipNonASCII() throws(JSONSyntaxError) {
        while index < end {
            let lead = bytes[index]
            if lead < 0x80 { return }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: throw fail("invalid UTF-8 in a string")
            }
            guard end - index >= length else { throw fail("invalid UTF-8 in a string") }
            let second = bytes[index + 1]
            guard second >= low && second <= high else { throw fail("invalid UTF-8 in a string") }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
                throw fail("invalid UTF-8 in a string")
            }
            index += length
        }
    }
}
