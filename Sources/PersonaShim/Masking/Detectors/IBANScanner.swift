/// IBANs: a country code with a registered IBAN length, two check digits, and the rest in capitals and digits,
/// written as one run (`DE89370400440532013000`) or in groups of four separated by single spaces
/// (`GB82 WEST 1234 5698 7654 32`), with the ISO 7064 mod-97 checksum equal to 1. A country not in the registry
/// never matches.
extension BuiltInScanner {
    mutating func scanIBAN(at start: Int) {
        guard let length = IBAN.length(country: text[start], text[start + 1]) else { return }
        let spaced = text[start + 4] == UInt8(ascii: " ")
        var characters = 4
        var position = start + 4
        var remainder = 0
        // The check runs over the characters after the first four, then the first four.
        func add(_ byte: UInt8) {
            let value = Byte.isDigit(byte) ? Int(byte &- 0x30) : Int(byte &- 0x41) + 10
            remainder = (value < 10 ? remainder * 10 + value : remainder * 100 + value) % 97
        }
        while characters < length {
            if spaced && characters % 4 == 0 {
                guard text[position] == UInt8(ascii: " ") else { return }
                position += 1
            }
            let byte = text[position]
            guard Byte.isUpperAlnum(byte) else { return }
            add(byte)
            characters += 1
            position += 1
        }
        guard endsWord(position) else { return }
        for offset in 0..<4 { add(text[start + offset]) }
        if remainder == 1 { found(.iban, start..<position) }
    }
}

enum IBAN {
    /// IBAN lengths by country, from the SWIFT IBAN registry.
    static let lengths: [UInt16: Int] = {
        let table =
            "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 "
            + "EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 "
            + "JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 "
            + "NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 "
            + "TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
        var lengths: [UInt16: Int] = [:]
        for entry in table.split(separator: " ") {
            let bytes = Array(entry.utf8)
            lengths[UInt16(bytes[0]) << 8 | UInt16(bytes[1])] = Int(String(entry.dropFirst(2)))!
        }
        return lengths
    }()

    static func length(country first: UInt8, _ second: UInt8) -> Int? {
        lengths[UInt16(first) << 8 | UInt16(second)]
    }
}
