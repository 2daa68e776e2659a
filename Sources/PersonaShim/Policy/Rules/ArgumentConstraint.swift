/// One JSON Schema keyword (plus `under`/`notUnder` and `hosts`) applied to one argument.
///
/// Unlike JSON Schema, a keyword never passes vacuously on a value of another type: `minimum` on a string, or
/// `pattern` on a number, cannot be evaluated, and a rule that cannot be evaluated denies. Otherwise a rule
/// written for numbers would wave through the same argument sent as a string.
public indirect enum ArgumentConstraint: Sendable {
    case type([JSONType])
    case oneOf([JSONValue])
    case const(JSONValue)
    case pattern(PosixRegex)
    case minLength(Int)
    case maxLength(Int)
    case minimum(DecimalNumber)
    case maximum(DecimalNumber)
    case exclusiveMinimum(DecimalNumber)
    case exclusiveMaximum(DecimalNumber)
    /// Members an object argument must have.
    case required([String])
    /// Holds when the inner constraints do not all hold (and denies when they cannot be evaluated).
    case not([ArgumentConstraint])
    case paths(PathScope)
    case hosts(HostScope)
}

/// The `type` names of JSON Schema; `integer` is a number without a fractional part (`1.0` is one).
public enum JSONType: String, Sendable, CaseIterable {
    case null, boolean, number, integer, string, array, object

    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.string, .string), (.array, .array), (.object, .object): true
        case (.number, .number(let literal)): DecimalNumber.classify(literal: literal).isNumber
        case (.integer, .number(let literal)): DecimalNumber.classify(literal: literal).isInteger
        default: false
        }
    }
}

/// What checking one constraint concluded.
public enum ConstraintOutcome: Sendable, Equatable {
    case holds
    /// The argument was judged and does not satisfy the constraint; the text says how.
    case fails(String)
    /// The argument could not be judged (wrong type, unresolvable path, unreadable host); the text says why.
    case cannotEvaluate(String)
}

extension ArgumentConstraint {
    /// Checks `value`, the argument at `pointer` (named in sentences); `paths` resolves path arguments.
    public func check(_ value: JSONValue, at pointer: JSONPointer, paths: PathResolver) -> ConstraintOutcome {
        // Computed only on the way to a refusal: an argument that passes costs no string building.
        var name: String { "argument \"\(pointer)\"" }
        switch self {
        case .type(let types):
            if types.contains(where: { $0.matches(value) }) { return .holds }
            return .fails("\(name) is \(value.typeName), not \(types.map(\.rawValue).joined(separator: " or "))")
        case .oneOf(let values):
            if values.contains(where: { JSONEquality.equal($0, value) }) { return .holds }
            return .fails("\(name) is not one of the allowed values")
        case .const(let expected):
            return JSONEquality.equal(expected, value) ? .holds : .fails("\(name) is not the required value")
        case .pattern(let regex):
            guard case .string(let text) = value else { return wrongType(name, value, "a string") }
            return regex.matches(text) ? .holds : .fails("\(name) does not match the pattern \"\(regex.pattern)\"")
        case .minLength(let minimum):
            guard case .string(let text) = value else { return wrongType(name, value, "a string") }
            return text.unicodeScalars.count >= minimum
                ? .holds : .fails("\(name) is shorter than \(minimum) characters")
        case .maxLength(let maximum):
            guard case .string(let text) = value else { return wrongType(name, value, "a string") }
            // Counting stops past the maximum, so a huge argument costs no more than a long enough one.
            return text.unicodeScalars.prefix(maximum + 1).count <= maximum
                ? .holds : .fails("\(name) is longer than \(maximum) characters")
        case .minimum(let bound), .maximum(let bound), .exclusiveMinimum(let bound), .exclusiveMaximum(let bound):
            guard case .number(let literal) = value else { return wrongType(name, value, "a number") }
            guard let order = DecimalNumber.compare(literal: literal, with: bound) else {
                return .cannotEvaluate("\(name) (\(literal)) is a number too large or too small to compare")
            }
            return compare(order, bound, name: name)
        case .required(let keys):
            guard case .object(let object) = value else { return wrongType(name, value, "an object") }
            if let missing = keys.first(where: { object[$0] == nil }) {
                return .fails("\(name) has no member \"\(missing)\"")
            }
            return .holds
        case .not(let inner):
            for constraint in inner {
                switch constraint.check(value, at: pointer, paths: paths) {
                case .holds: continue
                case .fails: return .holds
                case .cannotEvaluate(let why): return .cannotEvaluate(why)
                }
            }
            return .fails("\(name) matches a \"not\" condition")
        case .paths(let scope):
            guard case .string(let text) = value else { return wrongType(name, value, "a path string") }
            return checkPath(text, scope: scope, name: name, paths: paths)
        case .hosts(let scope):
            guard case .string(let text) = value else { return wrongType(name, value, "a URL or host string") }
            let host: HostName
            do { host = try HostName(url: text) } catch { return .cannotEvaluate("\(name) cannot be read: \(error)") }
            return scope.violation(host).map { .fails("\(name) names \($0)") } ?? .holds
        }
    }

    private func wrongType(_ name: String, _ value: JSONValue, _ expected: String) -> ConstraintOutcome {
        .cannotEvaluate("\(name) is \(value.typeName), not \(expected)")
    }

    private func compare(_ order: Int, _ bound: DecimalNumber, name: String) -> ConstraintOutcome {
        switch self {
        case .minimum: return order >= 0 ? .holds : .fails("\(name) is below the minimum \(bound)")
        case .maximum: return order <= 0 ? .holds : .fails("\(name) is above the maximum \(bound)")
        case .exclusiveMinimum: return order > 0 ? .holds : .fails("\(name) is not above \(bound)")
        default: return order < 0 ? .holds : .fails("\(name) is not below \(bound)")
        }
    }

    /// A path is judged as written and, when it holds `%XX` escapes, also decoded: a server that decodes them
    /// must not reach what the literal reading would have refused.
    private func checkPath(_ text: String, scope: PathScope, name: String, paths: PathResolver) -> ConstraintOutcome {
        var readings = [text]
        if !text.hasPrefix("file:"), text.utf8.contains(UInt8(ascii: "%")) {
            guard let decoded = PathResolver.percentDecode(Substring(text)) else {
                return .cannotEvaluate("\(name) has a malformed %-escape")
            }
            readings.append(decoded)
        }
        for reading in readings {
            let resolved: String
            do { resolved = try paths.resolve(reading) } catch {
                return .cannotEvaluate("\(name) cannot be resolved: \(error)")
            }
            if let violation = scope.violation(resolvedPath: resolved) { return .fails("\(name): \(violation)") }
        }
        return .holds
    }
}

/// JSON equality for `enum` and `const`: numbers by exact value (`1.0` equals `1`), object members in any order,
/// strings byte for byte (Swift's `==` would call a decomposed `é` equal to a composed one; a server may not).
enum JSONEquality {
    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.number(let a), .number(let b)):
            if a == b { return true }
            guard let left = DecimalNumber(a), let right = DecimalNumber(b) else { return false }
            return left == right
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)):
            guard a.members.count == b.members.count else { return false }
            return a.members.allSatisfy { member in b[member.key].map { equal(member.value, $0) } ?? false }
        default: return false
        }
    }
}
