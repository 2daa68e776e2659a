/// Argument rules judged from the arguments' bytes as the agent sent them, without building a `JSONValue`.
///
/// Only for the common case, and only to allow: a call whose rules all allow it on this reading is allowed,
/// and anything else (a refusal, whose sentence the full evaluation words, or a value this reading does not
/// take on: an escaped string, an array step, a key that is not ASCII, a keyword without a byte form) returns
/// nil, and the caller evaluates the decoded arguments as before. Every keyword here decides exactly as
/// `ArgumentConstraint.check` does on the decoded value.
struct RawArgumentRules: Sendable {
    enum Constraint: Sendable {
        case type([JSONType])
        case pattern(PosixRegex)
        case minLength(Int)
        case maxLength(Int)
        case bound(ArgumentConstraint, DecimalNumber)
    }

    struct Condition: Sendable {
        /// The pointer's tokens, as UTF-8 (all ASCII).
        let tokens: [[UInt8]]
        let ifPresent: Bool
        let constraints: [Constraint]
    }

    struct Rule: Sendable {
        let isRequire: Bool
        let conditions: [Condition]
    }

    let rules: [Rule]

    /// Nil when some rule has a kind or keyword this reading does not take on.
    init?(_ rules: [ArgumentRule]) {
        var compiled: [Rule] = []
        for rule in rules {
            let isRequire: Bool
            switch rule.kind {
            case .require: isRequire = true
            case .when: isRequire = false
            case .strictArguments: return nil
            }
            var conditions: [Condition] = []
            for condition in rule.conditions {
                let tokens = condition.pointer.tokens.map { Array($0.utf8) }
                guard tokens.allSatisfy({ $0.allSatisfy { $0 < 0x80 } }) else { return nil }
                var constraints: [Constraint] = []
                for constraint in condition.constraints {
                    switch constraint {
                    case .type(let types): constraints.append(.type(types))
                    case .pattern(let regex): constraints.append(.pattern(regex))
                    case .minLength(let minimum): constraints.append(.minLength(minimum))
                    case .maxLength(let maximum): constraints.append(.maxLength(maximum))
                    case .minimum(let bound), .maximum(let bound), .exclusiveMinimum(let bound),
                        .exclusiveMaximum(let bound):
                        constraints.append(.bound(constraint, bound))
                    default: return nil
                    }
                }
                conditions.append(Condition(tokens: tokens, ifPresent: condition.ifPresent, constraints: constraints))
            }
            compiled.append(Rule(isRequire: isRequire, conditions: conditions))
        }
        self.rules = compiled
    }

    private enum Outcome { case holds, absent, fails, cannotEvaluate, undecided }

    /// True when every rule allows the call whose arguments are the valid JSON object at `range` of `bytes`
    /// (no key repeated); false when the decoded arguments must decide.
    func allow(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for rule in rules {
            var allHold = true
            for condition in rule.conditions {
                switch check(condition, bytes, range) {
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

    private func check(_ condition: Condition, _ bytes: UnsafeRawBufferPointer, _ arguments: Range<Int>)
        -> Outcome
    {
        var value = arguments
        for token in condition.tokens {
            switch bytes[value.lowerBound] {
            case UInt8(ascii: "{"):
                let lookup = token.withUnsafeBytes { JSONReader.member(named: $0, in: bytes, of: value) }
                switch lookup {
                case .found(let member): value = member
                case .absent: return condition.ifPresent ? .absent : .cannotEvaluate
                case .undecided: return .undecided
                }
            case UInt8(ascii: "["): return .undecided
            default: return condition.ifPresent ? .absent : .cannotEvaluate
            }
        }
        for constraint in condition.constraints {
            let outcome = check(constraint, UnsafeRawBufferPointer(rebasing: bytes[value]))
            if outcome != .holds { return outcome }
        }
        return .holds
    }

    private func check(_ constraint: Constraint, _ value: UnsafeRawBufferPointer) -> Outcome {
        let first = value[0]
        let isString = first == UInt8(ascii: "\"")
        let isNumber = first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10
        // A string's content, when it has no escape: then its bytes are the decoded string's UTF-8.
        func content() -> UnsafeRawBufferPointer? {
            let body = UnsafeRawBufferPointer(rebasing: value[1..<(value.count - 1)])
            return body.contains(UInt8(ascii: "\\")) ? nil : body
        }
        switch constraint {
        case .type(let types):
            for type in types {
                let matches: Bool
                switch type {
                case .null: matches = first == UInt8(ascii: "n")
                case .boolean: matches = first == UInt8(ascii: "t") || first == UInt8(ascii: "f")
                case .string: matches = isString
                case .array: matches = first == UInt8(ascii: "[")
                case .object: matches = first == UInt8(ascii: "{")
                case .number: matches = isNumber && DecimalNumber.classify(literal: numeric(value)).isNumber
                case .integer: matches = isNumber && DecimalNumber.classify(literal: numeric(value)).isInteger
                }
                if matches { return .holds }
            }
            return .fails
        case .pattern(let regex):
            guard isString else { return .cannotEvaluate }
            guard let text = content() else { return .undecided }
            return regex.matches(utf8: text) ? .holds : .fails
        case .minLength(let minimum):
            guard isString else { return .cannotEvaluate }
            guard let text = content() else { return .undecided }
            return Self.scalarCount(text, limit: minimum) >= minimum ? .holds : .fails
        case .maxLength(let maximum):
            guard isString else { return .cannotEvaluate }
            guard let text = content() else { return .undecided }
            return Self.scalarCount(text, limit: maximum + 1) <= maximum ? .holds : .fails
        case .bound(let kind, let bound):
            guard isNumber else { return .cannotEvaluate }
            guard let order = DecimalNumber.compare(literal: numeric(value), with: bound) else {
                return .cannotEvaluate
            }
            switch kind {
            case .minimum: return order >= 0 ? .holds : .fails
            case .maximum: return order <= 0 ? .holds : .fails
            case .exclusiveMinimum: return order > 0 ? .holds : .fails
            default: return order < 0 ? .holds : .fails
            }
        }
    }

    private func numeric(_ value: UnsafeRawBufferPointer) -> UnsafeBufferPointer<UInt8> {
        value.assumingMemoryBound(to: UInt8.self)
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
