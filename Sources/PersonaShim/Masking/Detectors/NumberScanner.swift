/// Digit groups with single separators between them, as a card, an SSN or a phone number is written.
struct NumberShape {
    static let maxGroups = 16
    /// Where the digits start (`+` and `(` excluded) and end.
    var start = 0
    var end = 0
    var plus = false
    /// The index of a parenthesised group (`(555) 123-4567`), if any.
    var parenthesised = -1
    var groupCount = 0
    var lengths = SIMD16<UInt8>()
    /// The separator after each group: space, `-`, `.`, or `)` after a parenthesised group.
    var separators = SIMD16<UInt8>()

    var digitCount: Int {
        var total = 0
        for group in 0..<groupCount { total += Int(lengths[group]) }
        return total
    }

    /// Whether every separator other than a closing parenthesis is `separator` (or, when nil, the same one).
    func separatorsAreUniform(_ separator: UInt8? = nil) -> Bool {
        var seen = separator
        for group in 0..<max(0, groupCount - 1) where separators[group] != UInt8(ascii: ")") {
            if seen == nil { seen = separators[group] }
            if separators[group] != seen { return false }
        }
        return true
    }

    func lengthsAre(_ expected: [UInt8]) -> Bool {
        guard groupCount == expected.count else { return false }
        for (group, length) in expected.enumerated() where lengths[group] != length { return false }
        return true
    }
}

/// Phone numbers, payment cards and US SSNs, found from a digit (or `+`/`(`) that starts a number, and IBANs from
/// a digit after two capital letters.
///
/// A number is read whole (all its groups) and judged whole, so a part of a longer number never matches and a
/// digit run is read once.
extension BuiltInScanner {
    mutating func scanDigits(at index: Int) -> Int {
        let before = text[index - 1]
        if Byte.isWord(before) {
            if enabled.contains(.iban) && Byte.isUpper(before) && Byte.isUpper(text[index - 2])
                && startsWord(index - 2) && Byte.isDigit(text[index + 1])
            {
                scanIBAN(at: index - 2)
            }
            return text.runEnd(from: index, while: Byte.isAlnum)
        }
        // Inside a dotted or dashed token (`v1.2.3`, `build-42`), or after a `+` the phone scanner did not take.
        if ((before == UInt8(ascii: ".") || before == UInt8(ascii: "-")) && Byte.isAlnum(text[index - 2]))
            || before == UInt8(ascii: "+")
        {
            return text.runEnd(from: index, while: Byte.isAlnum)
        }
        // Most numbers are one short group (`200`, `1234`, `2024`): only a card can be a single run, and only of
        // 13–19 digits, so such a run needs no further reading.
        let runEnd = text.runEnd(from: index, while: Byte.isDigit)
        let after = text[runEnd]
        let continues =
            (after == UInt8(ascii: " ") || after == UInt8(ascii: "-") || after == UInt8(ascii: "."))
            && Byte.isDigit(text[runEnd + 1])
        if !continues && !(13...19).contains(runEnd - index) {
            return Byte.isAlnum(after) ? text.runEnd(from: runEnd, while: Byte.isAlnum) : runEnd
        }
        return scanNumber(at: index)
    }

    mutating func scanNumberOpening(at index: Int) -> Int {
        guard startsWord(index), Byte.isDigit(text[index + 1]) else { return index + 1 }
        return scanNumber(at: index)
    }

    private mutating func scanNumber(at index: Int) -> Int {
        guard let shape = readNumber(at: index) else { return index + 1 }
        guard endsWord(shape.end) else { return text.runEnd(from: shape.end, while: Byte.isAlnum) }
        let range = shape.start..<shape.end
        if enabled.contains(.card) && isCard(shape) {
            found(.card, range)
        } else if enabled.contains(.usSSN) && isSSN(shape) {
            found(.usSSN, range)
        } else if enabled.contains(.phone) && isPhone(shape) {
            found(.phone, (shape.plus ? shape.start - 1 : shape.start)..<shape.end)
        }
        return shape.end
    }

    private func readNumber(at index: Int) -> NumberShape? {
        var shape = NumberShape()
        var position = index
        if text[position] == UInt8(ascii: "+") {
            shape.plus = true
            position += 1
            guard text[position] != UInt8(ascii: "0") else { return nil }
        }
        shape.start = position
        while shape.groupCount < NumberShape.maxGroups {
            let group = shape.groupCount
            if text[position] == UInt8(ascii: "(") && shape.parenthesised < 0 && (group == 0 || shape.plus) {
                let digitsEnd = text.runEnd(from: position + 1, while: Byte.isDigit)
                guard digitsEnd > position + 1, text[digitsEnd] == UInt8(ascii: ")") else { break }
                shape.parenthesised = group
                shape.lengths[group] = UInt8(min(255, digitsEnd - position - 1))
                shape.groupCount += 1
                position = digitsEnd + 1
                shape.end = position
                shape.separators[group] = UInt8(ascii: ")")
                let next = text[position]
                if (next == UInt8(ascii: " ") || next == UInt8(ascii: "-")) && Byte.isDigit(text[position + 1]) {
                    position += 1
                } else if !Byte.isDigit(next) {
                    break
                }
                continue
            }
            let digitsEnd = text.runEnd(from: position, while: Byte.isDigit)
            guard digitsEnd > position else { break }
            shape.lengths[group] = UInt8(min(255, digitsEnd - position))
            shape.groupCount += 1
            position = digitsEnd
            shape.end = position
            let separator = text[position]
            guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") || separator == UInt8(ascii: ".")
            else { break }
            let next = text[position + 1]
            guard Byte.isDigit(next) || (next == UInt8(ascii: "(") && shape.plus) else { break }
            shape.separators[group] = separator
            position += 1
        }
        return shape.groupCount == 0 ? nil : shape
    }

    /// The digits of a number, in order, as values 0–9.
    private func digits(_ shape: NumberShape) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(19)
        for index in shape.start..<shape.end where Byte.isDigit(text[index]) { result.append(text[index] &- 0x30) }
        return result
    }

    /// 13–19 digits, written as one run or in groups of four (the last shorter) or 4-6-5 / 4-6-4 with one kind of
    /// separator (space or `-`), starting with a known issuer prefix of the right length, passing Luhn.
    private func isCard(_ shape: NumberShape) -> Bool {
        guard !shape.plus, shape.parenthesised < 0, (13...19).contains(shape.digitCount) else { return false }
        if shape.groupCount > 1 {
            let separator = shape.separators[0]
            guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-"),
                shape.separatorsAreUniform(separator)
            else { return false }
            var fours = true
            for group in 0..<shape.groupCount - 1 where shape.lengths[group] != 4 { fours = false }
            let last = shape.lengths[shape.groupCount - 1]
            guard (fours && (1...4).contains(last)) || shape.lengthsAre([4, 6, 5]) || shape.lengthsAre([4, 6, 4])
            else { return false }
        }
        let digits = digits(shape)
        return CardNumber.hasKnownIssuer(digits) && CardNumber.passesLuhn(digits)
    }

    /// `AAA-GG-SSSS` with dashes, excluding the numbers never issued: area 000, 666 or 900–999, group 00, serial
    /// 0000.
    private func isSSN(_ shape: NumberShape) -> Bool {
        guard !shape.plus, shape.parenthesised < 0, shape.groupCount == 3, shape.lengthsAre([3, 2, 4]),
            shape.separatorsAreUniform(UInt8(ascii: "-"))
        else { return false }
        let digits = digits(shape)
        let area = Int(digits[0]) * 100 + Int(digits[1]) * 10 + Int(digits[2])
        let group = Int(digits[3]) * 10 + Int(digits[4])
        let serial = digits[5...].reduce(0) { $0 * 10 + Int($1) }
        return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }

    /// `+` and 8–15 digits (E.164, any grouping); or a North American number, `(555) 123-4567`, `555-123-4567`,
    /// `555.123.4567`, `555 123 4567`, optionally after `1` (area code 2–9 first); or a national number with a
    /// trunk `0`, 10–11 digits in groups of 2–8 with one kind of separator (`020 7946 0958`, `06 12 34 56 78`).
    /// A lone digit run without `+` is never a phone number: it is as likely an id or a timestamp.
    private func isPhone(_ shape: NumberShape) -> Bool {
        let digitCount = shape.digitCount
        if shape.plus { return (8...15).contains(digitCount) }
        guard shape.groupCount >= 2, (10...11).contains(digitCount), shape.separatorsAreUniform() else { return false }
        let digits = digits(shape)
        if shape.lengthsAre([3, 3, 4]) || shape.lengthsAre([1, 3, 3, 4]) {
            let area = shape.groupCount == 4 ? digits[1] : digits[0]
            guard shape.groupCount == 3 || digits[0] == 1 else { return false }
            guard shape.parenthesised < 0 || shape.parenthesised == shape.groupCount - 3 else { return false }
            return area >= 2
        }
        guard digits[0] == 0, digits[1] != 0, shape.parenthesised <= 0,
            (2...5).contains(shape.lengths[0])
        else { return false }
        for group in 1..<shape.groupCount where !(2...8).contains(shape.lengths[group]) { return false }
        return true
    }
}

enum CardNumber {
    static func passesLuhn(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    /// Visa, Mastercard, American Express, Discover, JCB, Diners Club and UnionPay prefixes with their lengths.
    static func hasKnownIssuer(_ digits: [UInt8]) -> Bool {
        func prefix(_ count: Int) -> Int { digits.prefix(count).reduce(0) { $0 * 10 + Int($1) } }
        let length = digits.count
        switch digits[0] {
        case 4: return length == 13 || length == 16 || length == 19
        case 5: return (51...55).contains(prefix(2)) && length == 16
        case 2: return (2221...2720).contains(prefix(4)) && length == 16
        case 3:
            if prefix(2) == 34 || prefix(2) == 37 { return length == 15 }
            if (3528...3589).contains(prefix(4)) { return length >= 16 }
            return ((300...305).contains(prefix(3)) || [36, 38, 39].contains(prefix(2))) && length >= 14
        case 6:
            if prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3)) { return length >= 16 }
            return prefix(2) == 62 && length >= 16
        default: return false
        }
    }
}
