/// A JSON number read exactly from its text, for comparisons a `Double` would get wrong.
///
/// `100.00000000000001` is above 100 here, `1e2` equals 100 and `-0` equals 0. The value is kept as its
/// significant digits and a decimal exponent, so `1e999999999` costs as many bytes as its text: nothing is ever
/// expanded. Exponents whose magnitude exceeds `maximumExponent` are refused (the initialiser returns nil), which
/// rules treat as "cannot be evaluated" and so deny: no legitimate argument needs them, and refusing is the
/// fail-closed reading of a number that cannot be compared with certainty.
public struct DecimalNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The largest exponent magnitude accepted, after folding in the position of the decimal point.
    public static let maximumExponent = 1_000_000_000

    /// Whether the number is below zero (never true for zero: `-0` is zero).
    public let isNegative: Bool
    /// Significant digits (0...9), first digit non-zero, no trailing zeros; empty for zero.
    let digits: [UInt8]
    /// The value is `0.d1d2...dn × 10^exponent`.
    let exponent: Int

    /// Reads a number written in JSON syntax; nil for anything else, including strings such as `"100"` (pass
    /// the number's literal, not a string's contents) and exponents out of range.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    /// The number of a JSON value; nil for every other value, strings included.
    public init?(_ value: JSONValue) {
        guard case .number(let literal) = value else { return nil }
        self.init(literal)
    }

    init(isNegative: Bool, digits: [UInt8], exponent: Int) {
        self.isNegative = isNegative && !digits.isEmpty
        self.digits = digits
        self.exponent = digits.isEmpty ? 0 : exponent
    }

    public var isZero: Bool { digits.isEmpty }

    /// Whether the number has no fractional part (`1.0` and `1e2` are integers, as in JSON Schema).
    public var isInteger: Bool { digits.isEmpty || exponent >= digits.count }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> DecimalNumber? {
        var index = 0
        let count = bytes.count
        var negative = false
        if index < count && bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
        // Integer part: one zero, or a non-zero digit and more digits.
        let integerStart = index
        guard index < count, isDigit(bytes[index]) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < count && isDigit(bytes[index]) { index += 1 }
        }
        let integerEnd = index
        var fractionStart = index
        var fractionEnd = index
        if index < count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < count && isDigit(bytes[index]) { index += 1 }
            fractionEnd = index
            guard fractionEnd > fractionStart else { return nil }
        }
        var writtenExponent = 0
        if index < count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            index += 1
            var exponentNegative = false
            if index < count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            while index < count && isDigit(bytes[index]) {
                writtenExponent = writtenExponent * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                // Checked per digit, so a thousand-digit exponent never overflows before it is refused.
                if writtenExponent > maximumExponent { return nil }
                index += 1
            }
            guard index > exponentStart else { return nil }
            if exponentNegative { writtenExponent = -writtenExponent }
        }
        guard index == count else { return nil }
        // All significant digits, integer then fraction, without leading or trailing zeros.
        var digits: [UInt8] = []
        var leadingZeros = 0
        var seenNonZero = false
        for position in integerStart..<integerEnd {
            let digit = bytes[position] &- UInt8(ascii: "0")
            if digit == 0 && !seenNonZero { continue }
            seenNonZero = true
            digits.append(digit)
        }
        let integerDigits = digits.count
        for position in fractionStart..<fractionEnd {
            let digit = bytes[position] &- UInt8(ascii: "0")
            if digit == 0 && !seenNonZero {
                leadingZeros += 1
                continue
            }
            seenNonZero = true
            digits.append(digit)
        }
        while let last = digits.last, last == 0 { digits.removeLast() }
        if digits.isEmpty { return DecimalNumber(isNegative: false, digits: [], exponent: 0) }
        // 0.d1...dn × 10^e: the point sits after the integer digits, or before the fraction's leading zeros.
        let exponent = (integerDigits > 0 ? integerDigits : -leadingZeros) + writtenExponent
        guard abs(exponent) <= maximumExponent else { return nil }
        return DecimalNumber(isNegative: negative, digits: digits, exponent: exponent)
    }

    /// Compares magnitudes: -1, 0 or 1.
    private static func compareMagnitude(_ lhs: DecimalNumber, _ rhs: DecimalNumber) -> Int {
        if lhs.digits.isEmpty || rhs.digits.isEmpty {
            return lhs.digits.isEmpty ? (rhs.digits.isEmpty ? 0 : -1) : 1
        }
        if lhs.exponent != rhs.exponent { return lhs.exponent < rhs.exponent ? -1 : 1 }
        for (left, right) in zip(lhs.digits, rhs.digits) where left != right { return left < right ? -1 : 1 }
        if lhs.digits.count == rhs.digits.count { return 0 }
        // No trailing zeros, so the one with more digits has a non-zero digit further down.
        return lhs.digits.count < rhs.digits.count ? -1 : 1
    }

    public static func compare(_ lhs: DecimalNumber, _ rhs: DecimalNumber) -> Int {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative ? -1 : 1 }
        let magnitude = compareMagnitude(lhs, rhs)
        return lhs.isNegative ? -magnitude : magnitude
    }

    public static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool { compare(lhs, rhs) < 0 }

    /// The number in scientific form, e.g. `1.5e2`, `-3e-7`, `0`: the same for every way of writing it.
    public var description: String {
        guard let first = digits.first else { return "0" }
        var text = isNegative ? "-" : ""
        text += String(first)
        if digits.count > 1 { text += "." + digits.dropFirst().map { String($0) }.joined() }
        if exponent - 1 != 0 { text += "e\(exponent - 1)" }
        return text
    }
}
