import Platform

/// Decides from a message's bytes, without building a tree, whether anything in it could be masked: each string
/// value is scanned as the agent would read it. A string without escapes is scanned in place; one with escapes
/// (`\n`, `\"`, `\u0040` for `@`) is decoded first, because the raw text would hide a match (`\u0040`) or invent a
/// boundary (`\nAKIA…` reads as `nAKIA…`). Only a message with a hit is parsed and rewritten; every other one goes
/// to the agent as the server's bytes.
enum MaskingPrefilter {
    /// Whether some string value in `range` (valid JSON: the envelope scan checked it) has a detection.
    static func mightMask(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, detectors: DetectorSet) -> Bool {
        var decoded: [UInt8] = []
        return mightMask(raw, range, detectors: detectors, scratch: &decoded)
    }

    /// `mightMask`, decoding escaped strings into `decoded`, a buffer the caller keeps from call to call (a session
    /// does): a message with escapes then allocates nothing.
    static func mightMask(
        _ raw: UnsafeRawBufferPointer, _ range: Range<Int>, detectors: DetectorSet, scratch decoded: inout [UInt8]
    ) -> Bool {
        guard !detectors.isEmpty, !range.isEmpty else { return false }
        let base = raw.baseAddress!
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            let quote = memchr(base + index, Int32(UInt8(ascii: "\"")), end - index)
            let start = quote.map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? end + 1
            // Between strings: punctuation, literals and numbers, whose digits a detector may read (a card number
            // sent as a number).
            if hasDigits(raw, index..<(start - 1)),
                detectors.hasMatch(UnsafeRawBufferPointer(rebasing: raw[index..<(start - 1)]))
            {
                return true
            }
            guard quote != nil else { return false }
            // Find the closing quote: the first one not escaped by an odd run of backslashes.
            var position = start
            while position < end {
                guard let next = memchr(base + position, Int32(UInt8(ascii: "\"")), end - position) else {
                    return false
                }
                let at = base.distance(to: UnsafeRawPointer(next))
                var backslashes = 0
                while at - backslashes - 1 >= start, raw[at - backslashes - 1] == UInt8(ascii: "\\") {
                    backslashes += 1
                }
                position = at
                if backslashes % 2 == 0 { break }
                position += 1
            }
            let body = start..<min(position, end)
            let escaped = !body.isEmpty && memchr(base + body.lowerBound, Int32(UInt8(ascii: "\\")), body.count) != nil
            index = position + 1
            // A key is followed by a colon; keys are not masked.
            var after = index
            while after < end, raw[after] == 0x20 || raw[after] == 0x0A || raw[after] == 0x0D || raw[after] == 0x09 {
                after += 1
            }
            if after < end, raw[after] == UInt8(ascii: ":") { continue }
            if !escaped {
                if body.count > 0, detectors.hasMatch(UnsafeRawBufferPointer(rebasing: raw[body])) { return true }
            } else {
                decoded.removeAll(keepingCapacity: true)
                decode(raw, body, into: &decoded)
                if decoded.withUnsafeBytes({ detectors.hasMatch($0) }) { return true }
            }
        }
        return false
    }

    private static func hasDigits(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for position in range where raw[position] &- UInt8(ascii: "0") < 10 { return true }
        return false
    }

    /// A JSON string body with its escapes resolved, as the parser resolves them.
    static func decode(_ raw: UnsafeRawBufferPointer, _ body: Range<Int>, into output: inout [UInt8]) {
        JSONReader.appendUnescaped(raw, body, to: &output)
    }
}
