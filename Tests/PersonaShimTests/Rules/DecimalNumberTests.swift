import Testing

@testable import PersonaShim

@Suite struct DecimalNumberTests {
    func number(_ text: String) -> DecimalNumber {
        guard let number = DecimalNumber(text) else {
            Issue.record("\(text) should parse")
            return DecimalNumber("0")!
        }
        return number
    }

    @Test(arguments: [
        ("100.00000000000001", "100", 1), ("1e2", "100", 0), ("-0", "0", 0), ("0.0", "-0.0e5", 0),
        ("100", "100.0", 0), ("1E+2", "100", 0), ("1e-2", "0.01", 0), ("0.1", "0.09999999999999999999", 1),
        ("-1", "0", -1), ("-100", "-99.999", -1), ("12345678901234567890", "12345678901234567889", 1),
        ("1e400", "1e399", 1), ("-1e400", "1", -1), ("1e-400", "0", 1), ("-1e-400", "0", -1),
        ("9007199254740993", "9007199254740992", 1), ("0.000001", "1e-6", 0), ("10", "9", 1), ("1.5", "1.25", 1),
    ])
    func comparesExactly(_ lhs: String, _ rhs: String, _ expected: Int) {
        #expect(DecimalNumber.compare(number(lhs), number(rhs)) == expected)
        #expect(DecimalNumber.compare(number(rhs), number(lhs)) == -expected)
    }

    @Test(arguments: [
        "", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x10", "Infinity", "NaN", " 1", "1 ", "\"100\"", "1_000",
    ])
    func refusesWhatIsNotJSONNumberSyntax(_ text: String) {
        #expect(DecimalNumber(text) == nil)
    }

    @Test func classifiesLiterals() {
        #expect(DecimalNumber.classify(literal: "1.0") == (true, true))
        #expect(DecimalNumber.classify(literal: "1.5") == (true, false))
        #expect(DecimalNumber.classify(literal: "1e1000000001") == (false, false))
        #expect(DecimalNumber.compare(literal: "1e1000000001", with: number("1")) == nil)
        #expect(DecimalNumber.compare(literal: "-0.0", with: number("0")) == 0)
    }

    @Test func aStringIsNotANumber() {
        #expect(DecimalNumber(JSONValue.string("100")) == nil)
        #expect(DecimalNumber(JSONValue.number("100")) == number("1e2"))
    }

    @Test func hugeExponentsAreRefusedWithoutWork() {
        #expect(DecimalNumber("1e999999999") != nil)
        #expect(DecimalNumber("1e1000000000") == nil)
        #expect(DecimalNumber("1e-99999999999999999999999999999999") == nil)
        #expect(DecimalNumber("1e" + String(repeating: "9", count: 100_000)) == nil)
        // A zero is zero whatever its exponent says.
        #expect(DecimalNumber("0e999999999")?.isZero == true)
    }

    @Test func integersAsJSONSchemaReadsThem() {
        #expect(number("1.0").isInteger)
        #expect(number("1e2").isInteger)
        #expect(number("0").isInteger)
        #expect(!number("1.5").isInteger)
        #expect(!number("1e-2").isInteger)
        #expect(number("12.5e1").isInteger)
    }

    /// Writes `value` in one of the equivalent JSON forms, chosen by `form`.
    static func write(_ value: Int, form: Int) -> String {
        let sign = value < 0 ? "-" : ""
        let digits = String(value.magnitude)
        switch form % 5 {
        case 0: return sign + digits
        case 1: return sign + digits + ".000"
        case 2: return sign + "0.0" + digits + "e" + String(digits.count + 1)
        case 3: return sign + digits + "0e-1"
        default:
            // Trailing zeros moved into the exponent: 1200 → 12E+2.
            var mantissa = Substring(digits)
            var exponent = 0
            while mantissa.count > 1, mantissa.last == "0" {
                mantissa.removeLast()
                exponent += 1
            }
            return sign + mantissa + "E+" + String(exponent)
        }
    }

    @Test func everyFormOfAnIntegerComparesAsTheInteger() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<5000 {
            let a = Int.random(in: -1_000_000...1_000_000, using: &generator)
            let b = Bool.random(using: &generator) ? a : Int.random(in: -1_000_000...1_000_000, using: &generator)
            let leftText = Self.write(a, form: Int.random(in: 0..<5, using: &generator))
            let left = number(leftText)
            let right = number(Self.write(b, form: Int.random(in: 0..<5, using: &generator)))
            let expected = a < b ? -1 : a == b ? 0 : 1
            #expect(DecimalNumber.compare(left, right) == expected, "\(a) \(b)")
            // The allocation-free path rules take gives the same answer.
            #expect(DecimalNumber.compare(literal: leftText, with: right) == expected, "\(leftText) \(b)")
        }
    }

    @Test func equalValuesAreEqualAndHashAlike() {
        #expect(number("1e2") == number("100.000"))
        #expect(Set([number("1e2"), number("100"), number("100.0")]).count == 1)
        #expect(number("-0").description == "0")
        #expect(number("150").description == "1.5e2")
        #expect(number("-0.003").description == "-3e-3")
    }
}

@Suite struct JSONPointerTests {
    let document: JSONValue = [
        "options": ["path": "/srv/app", "a/b": 1, "m~n": 2], "files": ["x", "y"], "": "empty", "plain": true,
    ]

    @Test func resolvesPointersAndNames() throws {
        #expect(try JSONPointer("/options/path").resolve(in: document) == "/srv/app")
        #expect(try JSONPointer("/options/a~1b").resolve(in: document) == 1)
        #expect(try JSONPointer("/options/m~0n").resolve(in: document) == 2)
        #expect(try JSONPointer("/files/1").resolve(in: document) == "y")
        #expect(try JSONPointer("plain").resolve(in: document) == true)
        #expect(try JSONPointer("/").resolve(in: document) == "empty")
        #expect(try JSONPointer("").resolve(in: document) == document)
    }

    @Test(arguments: [
        "/files/2", "/files/01", "/files/-", "/files/+1", "/plain/x", "/nope", "/files/99999999999999999999",
    ])
    func missingIsNil(_ pointer: String) throws {
        #expect(try JSONPointer(pointer).resolve(in: document) == nil)
    }

    @Test func badEscapesAreRefused() throws {
        #expect(throws: JSONPointer.ParseError.self) { try JSONPointer("/a~2b") }
        #expect(throws: JSONPointer.ParseError.self) { try JSONPointer("/a~") }
        // A name is a name: `~` in it needs no escape.
        #expect(try JSONPointer("a~b").tokens == ["a~b"])
    }
}
