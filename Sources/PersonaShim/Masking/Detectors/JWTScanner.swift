/// JSON Web Tokens: three base64url segments joined by dots (the signature may be empty, as in an unsecured
/// token), the first at least 10 characters and decoding to a JSON object with an `alg` member. Found from the
/// `J` of `eyJ`, which every JSON header starts with.
extension BuiltInScanner {
    mutating func scanJWT(at index: Int) -> Int {
        let start = index - 2
        guard text.has("ey", at: start), !Byte.isBase64URL(text[start - 1]), text[start - 1] != UInt8(ascii: ".")
        else { return index + 1 }
        let headerEnd = text.runEnd(from: index + 1, while: Byte.isBase64URL)
        guard headerEnd - start >= 10, text[headerEnd] == UInt8(ascii: ".") else { return headerEnd }
        let payloadEnd = text.runEnd(from: headerEnd + 1, while: Byte.isBase64URL)
        guard payloadEnd > headerEnd + 1, text[payloadEnd] == UInt8(ascii: ".") else { return payloadEnd }
        let signatureEnd = text.runEnd(from: payloadEnd + 1, while: Byte.isBase64URL)
        guard text[signatureEnd] != UInt8(ascii: "."), headerHasAlgorithm(start..<headerEnd) else {
            return signatureEnd
        }
        found(.jwt, start..<signatureEnd)
        return signatureEnd
    }

    private func headerHasAlgorithm(_ header: Range<Int>) -> Bool {
        guard let decoded = Base64URL.decode(text, header) else { return false }
        let json = decoded.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\t") }
        guard json.first == UInt8(ascii: "{"), decoded.contains(UInt8(ascii: "}")) else { return false }
        let needle = Array("\"alg\"".utf8)
        return decoded.count >= needle.count
            && (0...(decoded.count - needle.count)).contains { decoded[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}

enum Base64URL {
    /// Decodes unpadded base64url (a header is short, so an array is fine); nil for a length that cannot be one.
    static func decode(_ text: ScanText, _ range: Range<Int>) -> [UInt8]? {
        guard range.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(range.count * 3 / 4)
        var buffer = 0
        var bits = 0
        for index in range {
            let byte = text[index]
            let value: Int
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = Int(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = Int(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> bits) & 0xFF))
            }
        }
        return output
    }
}
