import Platform

/// PEM private key blocks: `-----BEGIN <label>-----` whose label contains `PRIVATE KEY` (RSA, EC, OPENSSH,
/// ENCRYPTED, PGP … BLOCK), through the matching `-----END <label>-----`. The match covers the whole block. A
/// block cut off before its end line (a truncated output) still masks: it runs over the lines that follow the
/// begin line as long as they look like a key's body (base64, or `Name: value` headers).
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
        var search = beginEnd
        while let end = text.find("-----END ", from: search) {
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
            search = end + 1
        }
        let bodyEnd = truncatedBodyEnd(after: beginEnd)
        found(.privateKey, index..<bodyEnd)
        return bodyEnd
    }

    private func containsPrivateKey(_ label: Range<Int>) -> Bool {
        var position = label.lowerBound
        while position + 11 <= label.upperBound {
            if text.has("PRIVATE KEY", at: position) { return true }
            position += 1
        }
        return false
    }

    /// The end of the lines after a begin line that look like a key's body: base64 and `=`, or headers such as
    /// `Proc-Type: 4,ENCRYPTED`, with `\n` written literally (as in escaped JSON) counting as a line break.
    private func truncatedBodyEnd(after start: Int) -> Int {
        var end = start
        var position = start
        while position < text.count {
            let byte = text[position]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                position += 1
                continue
            }
            if byte == UInt8(ascii: "\\") && text[position + 1] == UInt8(ascii: "n") {
                position += 2
                continue
            }
            guard
                Byte.isBase64(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: ":")
                    || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: " ")
            else { break }
            position += 1
            end = position
        }
        return end
    }
}
