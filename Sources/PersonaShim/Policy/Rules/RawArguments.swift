import Platform

/// Argument rules judged from the arguments' bytes as the agent sent them, without building a `JSONValue`.
///
/// Only for the common case, and only to allow: a call whose rules all allow it on this reading is allowed,
/// and anything else (a refusal, whose sentence the full evaluation words, or a value this reading does not
/// take on: an escaped string, an array step, a key with an escape or not ASCII, a keyword without a byte
/// form) returns false, and the caller evaluates the decoded arguments as before. Every keyword here decides
/// exactly as `ArgumentConstraint.check` does on the decoded value.
struct RawArgumentRules: Sendable {
    enum BoundKind: Sendable { case minimum, maximum, exclusiveMinimum, exclusiveMaximum }

    /// Payloads are plain values or indexes (into `regexes` and `bounds`), so walking them retains nothing.
    enum Constraint: Sendable {
        /// `JSONType`s as a bit set (`1 << index` in `JSONType.allCases`).
        case types(UInt8)
        case pattern(Int)
        case minLength(Int)
        case maxLength(Int)
        case bound(BoundKind, Int)
    }

    /// Only plain values (ranges into the flat arrays below), so walking the rules retains nothing.
    struct Condition: Sendable {
        /// The index of the pointer's first token in `firstKeys`, or -1 for the whole arguments.
        let firstKey: Int
        /// The pointer's other tokens, in `tokens`.
        let rest: Range<Int>
        let ifPresent: Bool
        let constraints: Range<Int>
    }

    struct Rule: Sendable {
        let isRequire: Bool
        let conditions: Range<Int>
    }

    let rules: [Rule]
    let conditions: [Condition]
    let constraints: [Constraint]
    /// Pointer tokens after the first, as UTF-8 (all ASCII).
    let tokens: [[UInt8]]
    /// The distinct first tokens of the pointers: the top-level arguments, found in one walk.
    let firstKeys: [[UInt8]]
    let regexes: [PosixRegex]
    let bounds: [DecimalNumber]
    /// Each bound as an `Int` when it is an integer of at most 18 digits, for comparing small integer literals.
    let integerBounds: [Int?]

    /// Nil when some rule has a kind or keyword this reading does not take on.
    init?(_ rules: [ArgumentRule]) {
        var compiled: [Rule] = []
        var conditions: [Condition] = []
        var constraints: [Constraint] = []
        var restTokens: [[UInt8]] = []
        var firstKeys: [[UInt8]] = []
        var regexes: [PosixRegex] = []
        var bounds: [DecimalNumber] = []
        for rule in rules {
            let isRequire: Bool
            switch rule.kind {
            case .require: isRequire = true
            case .when: isRequire = false
            case .strictArguments: return nil
            }
            let firstCondition = conditions.count
            for condition in rule.conditions {
                let tokens = condition.pointer.tokens.map { Array($0.utf8) }
                guard tokens.allSatisfy({ $0.allSatisfy { $0 < 0x80 } }) else { return nil }
                var firstKey = -1
                if let first = tokens.first {
                    firstKey = firstKeys.firstIndex(of: first) ?? firstKeys.count
                    if firstKey == firstKeys.count { firstKeys.append(first) }
                }
                let firstRest = restTokens.count
                restTokens += tokens.dropFirst()
                let firstConstraint = constraints.count
                for constraint in condition.constraints {
                    switch constraint {
                    case .type(let types):
                        var mask: UInt8 = 0
                        for type in types { mask |= Self.bit(type) }
                        constraints.append(.types(mask))
                    case .pattern(let regex):
                        constraints.append(.pattern(regexes.count))
                        regexes.append(regex)
                    case .minLength(let minimum): constraints.append(.minLength(minimum))
                    case .maxLength(let maximum): constraints.append(.maxLength(maximum))
                    case .minimum(let bound):
                        constraints.append(.bound(.minimum, bounds.count))
                        bounds.append(bound)
                    case .maximum(let bound):
                        constraints.append(.bound(.maximum, bounds.count))
                        bounds.append(bound)
                    case .exclusiveMinimum(let bound):
                        constraints.append(.bound(.exclusiveMinimum, bounds.count))
                        bounds.append(bound)
                    case .exclusiveMaximum(let bound):
                        constraints.append(.bound(.exclusiveMaximum, bounds.count))
                        bounds.append(bound)
                    default: return nil
                    }
                }
                conditions.append(
                    Condition(
                        firstKey: firstKey, rest: firstRest..<restTokens.count, ifPresent: condition.ifPresent,
                        constraints: firstConstraint..<constraints.count))
            }
            compiled.append(Rule(isRequire: isRequire, conditions: firstCondition..<conditions.count))
        }
        self.rules = compiled
        self.conditions = conditions
        self.constraints = constraints
        self.tokens = restTokens
        self.firstKeys = firstKeys
        self.regexes = regexes
        self.bounds = bounds
        self.integerBounds = bounds.map(Self.integer)
    }

    private enum Outcome { case holds, absent, fails, cannotEvaluate, undecided }

    /// True when every rule allows the call whose arguments are the valid JSON object at `range` of `bytes`
    /// (no key repeated); false when the decoded arguments must decide.
    func allow(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard bytes[range.lowerBound] == UInt8(ascii: "{") else { return false }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: max(1, firstKeys.count)) { found in
            if !firstKeys.isEmpty {
                guard JSONReader.members(named: firstKeys, in: bytes, of: range, into: found) else { return false }
            }
            for rule in rules {
                var allHold = true
                for index in rule.conditions {
                    switch check(conditions[index], bytes, range, found) {
                    case .holds: continue
                    case .absent: allHold = false
                    case .fails:
                        if rule.isRequire { return false }
                        allHold = false
                    case .cannotEvaluate, .undecided: return false
                    }
                }
                // A `when` rule whose conditions all hold decides the call.
                if !rule.isRequire && allHold { return false }
            }
            return true
        }
    }

    private func check(
        _ condition: Condition, _ bytes: UnsafeRawBufferPointer, _ arguments: Range<Int>,
        _ found: UnsafeMutableBufferPointer<Range<Int>>
    ) -> Outcome {
        var value = arguments
        if condition.firstKey >= 0 {
            value = found[condition.firstKey]
            if value.isEmpty { return condition.ifPresent ? .absent : .cannotEvaluate }
            for token in condition.rest {
                switch bytes[value.lowerBound] {
                case UInt8(ascii: "{"):
                    let lookup = tokens[token].withUnsafeBytes {
                        JSONReader.member(named: $0, in: bytes, of: value)
                    }
                    switch lookup {
                    case .found(let member): value = member
                    case .absent: return condition.ifPresent ? .absent : .cannotEvaluate
                    case .undecided: return .undecided
                    }
                case UInt8(ascii: "["): return .undecided
                default: return condition.ifPresent ? .absent : .cannotEvaluate
                }
            }
        }
        var facts = ValueFacts(UnsafeRawBufferPointer(rebasing: bytes[value]))
        for index in condition.constraints {
            let outcome = check(constraints[index], &facts)
            if outcome != .holds { return outcome }
        }
        return .holds
    }

    /// What the constraints on one value read from it, each worked out at most once.
    private struct ValueFacts {
        let value: UnsafeRawBufferPointer
        let first: UInt8
        var isString: Bool { first == UInt8(ascii: "\"") }
        var isNumber: Bool { first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 }
        private var integerRead = false
        private var integerValue: Int?
        private var contentRead = false
        private var contentValue: UnsafeRawBufferPointer?

        init(_ value: UnsafeRawBufferPointer) {
            self.value = value
            self.first = value[0]
        }

        /// The number as an `Int`, when it is a plain integer of at most 18 digits.
        mutating func integer() -> Int? {
            if !integerRead {
                integerValue = JSONReader.integer(value, 0..<value.count)
                integerRead = true
            }
            return integerValue
        }

        /// A string's content when it has no escape: then its bytes are the decoded string's UTF-8.
        mutating func content() -> UnsafeRawBufferPointer? {
            if !contentRead {
                let body = UnsafeRawBufferPointer(rebasing: value[1..<(value.count - 1)])
                let escaped = body.count > 0 && memchr(body.baseAddress!, Int32(UInt8(ascii: "\\")), body.count) != nil
                contentValue = escaped ? nil : body
                contentRead = true
            }
            return contentValue
        }
    }

    @inline(__always) private func check(_ constraint: Constraint, _ facts: inout ValueFacts) -> Outcome {
        let first = facts.first
        let value = facts.value
        let isString = facts.isString
        let isNumber = facts.isNumber
        switch constraint {
        case .types(let mask):
            let type: JSONType
            switch first {
            case UInt8(ascii: "\""): type = .string
            case UInt8(ascii: "{"): type = .object
            case UInt8(ascii: "["): type = .array
            case UInt8(ascii: "n"): type = .null
            case UInt8(ascii: "t"), UInt8(ascii: "f"): type = .boolean
            default:
                // A number matches `number` when its literal reads, and `integer` when it has no fraction.
                let (isNumber, isInteger) =
                    facts.integer() != nil ? (true, true) : DecimalNumber.classify(literal: numeric(value))
                let number = isNumber && mask & Self.bit(.number) != 0
                let integer = isInteger && mask & Self.bit(.integer) != 0
                return number || integer ? .holds : .fails
            }
            return mask & Self.bit(type) != 0 ? .holds : .fails
        case .pattern(let index):
            guard isString else { return .cannotEvaluate }
            guard let text = facts.content() else { return .undecided }
            return regexes[index].matches(utf8: text) ? .holds : .fails
        case .minLength(let minimum):
            guard isString else { return .cannotEvaluate }
            guard let text = facts.content() else { return .undecided }
            return Self.scalarCount(text, limit: minimum) >= minimum ? .holds : .fails
        case .maxLength(let maximum):
            guard isString else { return .cannotEvaluate }
            guard let text = facts.content() else { return .undecided }
            return Self.scalarCount(text, limit: maximum + 1) <= maximum ? .holds : .fails
        case .bound(let kind, let index):
            guard isNumber else { return .cannotEvaluate }
            let order: Int
            if let literal = facts.integer(), let bound = integerBounds[index] {
                order = literal < bound ? -1 : (literal == bound ? 0 : 1)
            } else if let compared = DecimalNumber.compare(literal: numeric(value), with: bounds[index]) {
                order = compared
            } else {
                return .cannotEvaluate
            }
            switch kind {
            case .minimum: return order >= 0 ? .holds : .fails
            case .maximum: return order <= 0 ? .holds : .fails
            case .exclusiveMinimum: return order > 0 ? .holds : .fails
            case .exclusiveMaximum: return order < 0 ? .holds : .fails
            }
        }
    }

    private static func bit(_ type: JSONType) -> UInt8 {
        switch type {
        case .null: 1 << 0
        case .boolean: 1 << 1
        case .number: 1 << 2
        case .integer: 1 << 3
        case .string: 1 << 4
        case .array: 1 << 5
        case .object: 1 << 6
        }
    }

    private func numeric(_ value: UnsafeRawBufferPointer) -> UnsafeBufferPointer<UInt8> {
        value.assumingMemoryBound(to: UInt8.self)
    }

    /// A bound that is an integer of at most 18 digits, as an `Int`.
    static func integer(_ bound: DecimalNumber) -> Int? {
        if bound.digits.isEmpty { return 0 }
        guard bound.isInteger, bound.exponent <= 18 else { return nil }
        var value = 0
        for digit in bound.digits { value = value * 10 + Int(digit) }
        for _ in bound.digits.count..<bound.exponent { value *= 10 }
        return bound.isNegative ? -value : value
    }

    /// The Unicode scalars in valid UTF-8 (the bytes that are not continuation bytes), counted up to `limit`.
    static func scalarCount(_ text: UnsafeRawBufferPointer, limit: Int) -> Int {
        var count = 0
        for byte in text where byte & 0xC0 != 0x80 {
            count += 1
            if count >= limit { break }
        }
        return count
    }
}
