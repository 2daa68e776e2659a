import Platform

extension JSONReader {
    /// Appends a JSON string body (between its quotes) to `output` as UTF-8, with its escapes resolved. A lone
    /// surrogate becomes U+FFFD, as decoders do; a cut-off escape at the end of `body` is taken as it stands, so
    /// the body need not have been validated (masking reads raw answers with it).
    package static func appendUnescaped(
        _ raw: UnsafeRawBufferPointer, _ body: Range<Int>, to output: inout [UInt8]
    ) {
        var position = body.lowerBound
        func hex4(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 0..<4 where at + offset < body.upperBound {
                value = value << 4 | (hexValue(raw[at + offset]) ?? 0)
            }
            return value
        }
        while position < body.upperBound {
            // The run up to the next backslash goes over in one copy.
            let next =
                memchr(raw.baseAddress! + position, Int32(UInt8(ascii: "\\")), body.upperBound - position).map {
                    raw.baseAddress!.distance(to: UnsafeRawPointer($0))
                } ?? body.upperBound
            if next > position {
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position..<next]))
                position = next
                continue
            }
            guard position + 1 < body.upperBound else {
                output.append(raw[position])
                position += 1
                continue
            }
            let escape = raw[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var code = hex4(position)
                position += 4
                if (0xD800..<0xDC00).contains(code), position + 6 <= body.upperBound,
                    raw[position] == UInt8(ascii: "\\"), raw[position + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(position + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        position += 6
                    }
                }
                UTF8.encode(Unicode.Scalar(code) ?? "\u{FFFD}") { output.append($0) }
            default: output.append(escape)  // \" \\ \/
            }
        }
    }
}
