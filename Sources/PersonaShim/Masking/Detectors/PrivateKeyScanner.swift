import Platform

/// PEM private key blocks: `-----BEGIN <label>-----` whose label contains `PRIVATE KEY` (RSA, EC, OPENSSH,
/// ENCRYPTED, PGP … BLOCK), through the matching `-----END <label>-----`. The match covers the whole block. A
/// block cut off before its end line (a truncated output) still masks: it runs over the lines that follow the
/// begin line as long as they look like a key's body (base64, or `Name: value` headers); so does a block whose
/// first end line has another label.
extension BuiltInScanner {
    mutating func scanPrivateKey(at index: Int) -> Int {
        let labelStart = index + 11
        var labelEnd = labelStart
        while labelEnd < text.count && labelEnd - labelStart < 64 && text[labelEnd] != UInt8(ascii: "-")
            && (Byte.isUpper(text[labelEnd]) || text[labelEnd] == UInt8(ascii: " "))
        {
            labelEnd += 1
        }
        guard text.has("-----", at: labelEnd), containsPrivateKey(labelStart..<labelEnd) else { return index + 1 }
        let beginEnd = labelEnd + 5
        // Only the first end line after the begin line can close the block: a scan stays linear however many
        // begin lines the text repeats.
        if let end = nextEndMarker(from: beginEnd) {
            let endLabel = end + 9
            let labelLength = labelEnd - labelStart
            if endLabel + labelLength + 5 <= text.count
                && memcmp(text.bytes + endLabel, text.bytes + labelStart, labelLength) == 0
                && text.has("-----", at: endLabel + labelLength)
            {
                let blockEnd = endLabel + labelLength + 5
                found(.privateKey, index..<blockEnd)
                return blockEnd
            }
        }
        let bodyEnd = truncatedBodyEnd(after: beginEnd)
        found(.privateKey, index..<bodyEnd)
        return bodyEnd
    }

    /// The first `-----END ` at or after `start`, remembered: later searches from a position before it reuse it.
    private mutating func nextEndMarker(from start: Int) -> Int? {
        if start >= endMarkerSearch.from, endMarkerSearch.at.map({ $0 >= start }) ?? true {
            return endMarkerSearch.at
        }
        let at = text.find("-----END ", from: start)
        endMarkerSearch = (start, at)
        return at
    }

    private func containsPrivateKey(_ label: Range<Int>) -> Bool {
        var position = label.lowerBound
        while position + 11 <= label.upperBound {
            if text.has("PRIVATE KEY", at: position) { return true }
            position += 1
        }
        return false
    }

    /// The end of the lines after a begin line that look like a key's body: base64 and `=` only, or headers such
    /// as `Proc-Type: 4,ENCRYPTED` (then one blank line may follow), with `\n` written literally (as in escaped
    /// JSON) counting as a line break. A blank line elsewhere, or any other line, ends the body.
    private func truncatedBodyEnd(after start: Int) -> Int {
        var end = start
        var position = start
        var afterHeader = false
        while true {
            // One line break.
            if text[position] == UInt8(ascii: "\r") { position += 1 }
            if text[position] == UInt8(ascii: "\n") {
                position += 1
            } else if text[position] == UInt8(ascii: "\\") && text[position + 1] == UInt8(ascii: "n") {
                position += 2
            } else {
                return end
            }
            var lineEnd = position
            var header = false
            var body = true
            var name = true
            while lineEnd < text.count {
                let byte = text[lineEnd]
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                    || (byte == UInt8(ascii: "\\") && text[lineEnd + 1] == UInt8(ascii: "n"))
                {
                    break
                }
                lineEnd += 1
                if header { continue }
                if byte == UInt8(ascii: ":") && name && lineEnd > position + 1 {
                    header = true
                    continue
                }
                if !(Byte.isAlnum(byte) || byte == UInt8(ascii: "-")) { name = false }
                if !(Byte.isBase64(byte) || byte == UInt8(ascii: "=")) { body = false }
                if !body && !name { return end }
            }
            if lineEnd == position {
                guard afterHeader else { return end }
                afterHeader = false
            } else if header || body {
                afterHeader = header
                end = lineEnd
            } else {
                return end
            }
            position = lineEnd
        }
    }
}
