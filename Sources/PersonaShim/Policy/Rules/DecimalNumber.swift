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
        let parsed = text.withUTF8 { bytes in
            Self.withScan(bytes) { scan, digits in
                scan.map { DecimalNumber(isNegative: $0.negative, digits: Array(digits), exponent: $0.exponent) }
            }
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Compares a number's literal with `bound` without building a value (no allocation for literals of
    /// ordinary length); nil when the literal is not a number this type reads.
    public static func compare(literal: String, with bound: DecimalNumber) -> Int? {
        var literal = literal
        return literal.withUTF8 { compare(literal: $0, with: bound) }
    }

    /// Whether a literal is a number this type reads, and whether it is an integer, without building a value.
    public static func classify(literal: String) -> (isNumber: Bool, isInteger: Bool) {
        var literal = literal
        return literal.withUTF8 { classify(literal: $0) }
    }

    /// `compare(literal:with:)` on the literal's UTF-8 bytes, as a request holds them.
    static func compare(literal: UnsafeBufferPointer<UInt8>, with bound: DecimalNumber) -> Int? {
        withScan(literal) { scan, digits in
            scan.map {
                compare(($0.negative, digits, $0.exponent), (bound.isNegative, bound.digits, bound.exponent))
            }
        }
    }

    /// `classify(literal:)` on the literal's UTF-8 bytes, as a request holds them.
    static func classify(literal: UnsafeBufferPointer<UInt8>) -> (isNumber: Bool, isInteger: Bool) {
        withScan(literal) { scan, digits in
            guard let scan else { return (false, false) }
            return (true, digits.isEmpty || scan.exponent >= digits.count)
        }
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

    /// Scans a literal into scratch space on the stack and hands its significant digits to `body`.
    private static func withScan<Result>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ body: ((negative: Bool, exponent: Int)?, UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, bytes.count)) { scratch in
            guard let scan = scan(bytes, into: scratch) else {
                return body(nil, UnsafeBufferPointer(start: nil, count: 0))
            }
            return body((scan.negative, scan.exponent), UnsafeBufferPointer(rebasing: scratch[..<scan.count]))
        }
    }

    /// Reads JSON number syntax; writes the significant digits (no leading or trailing zeros) into `digits`.
    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, into digits: UnsafeMutableBufferPointer<UInt8>)
        -> (negative: Bool, count: Int, exponent: Int)?
    {
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
        var written = 0
        var leadingZeros = 0
        var seenNonZero = false
        for position in integerStart..<integerEnd {
            let digit = bytes[position] &- UInt8(ascii: "0")
            if digit == 0 && !seenNonZero { continue }
            seenNonZero = true
            digits[written] = digit
            written += 1
        }
        let integerDigits = written
        for position in fractionStart..<fractionEnd {
            let digit = bytes[position] &- UInt8(ascii: "0")
            if digit == 0 && !seenNonZero {
                leadingZeros += 1
                continue
            }
            seenNonZero = true
            digits[written] = digit
            written += 1
        }
        while written > 0 && digits[written - 1] == 0 { written -= 1 }
        if written == 0 { return (false, 0, 0) }
        // 0.d1...dn × 10^e: the point sits after the integer digits, or before the fraction's leading zeros.
        let exponent = (integerDigits > 0 ? integerDigits : -leadingZeros) + writtenExponent
        guard abs(exponent) <= maximumExponent else { return nil }
        return (negative, written, exponent)
    }

    /// Compares two numbers given as sign, significant digits and exponent: -1, 0 or 1.
    private static func compare<Left: RandomAccessCollection<UInt8>, Right: RandomAccessCollection<UInt8>>(
        _ lhs: (negative: Bool, digits: Left, exponent: Int), _ rhs: (negative: Bool, digits: Right, exponent: Int)
    ) -> Int {
        let leftNegative = lhs.negative && !lhs.digits.isEmpty
        let rightNegative = rhs.negative && !rhs.digits.isEmpty
        if leftNegative != rightNegative { return leftNegative ? -1 : 1 }
        var magnitude: Int
        if lhs.digits.isEmpty || rhs.digits.isEmpty {
            magnitude = lhs.digits.isEmpty ? (rhs.digits.isEmpty ? 0 : -1) : 1
        } else if lhs.exponent != rhs.exponent {
            magnitude = lhs.exponent < rhs.exponent ? -1 : 1
        } else {
            magnitude = 0
            for (left, right) in zip(lhs.digits, rhs.digits) where left != right {
                magnitude = left < right ? -1 : 1
                break
            }
            // No trailing zeros, so the one with more digits has a non-zero digit further down.
            if magnitude == 0 && lhs.digits.count != rhs.digits.count {
                magnitude = lhs.digits.count < rhs.digits.count ? -1 : 1
            }
        }
        return leftNegative ? -magnitude : magnitude
    }

    public static func compare(_ lhs: DecimalNumber, _ rhs: DecimalNumber) -> Int {
        compare((lhs.isNegative, lhs.digits, lhs.exponent), (rhs.isNegative, rhs.digits, rhs.exponent))
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
