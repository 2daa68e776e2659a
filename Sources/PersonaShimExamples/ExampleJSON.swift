// A small JSON value model for the example servers.
//
// Objects keep their keys in insertion order so that the tool lists and records the servers print read the way they
// were written (Foundation's JSONSerialization gives no order guarantee). Integers and doubles are kept apart because
// tool arguments such as `amountCents` must be integers, and because Foundation's NSNumber bridging on Linux blurs
// booleans, integers and doubles.

/// A parsed or constructed JSON value.
package enum ExampleJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([ExampleJSON])
    /// Key/value pairs in order; lookups take the last occurrence of a key, as most JSON parsers do.
    case object([(String, ExampleJSON)])

    package static func == (lhs: ExampleJSON, rhs: ExampleJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member named `key` of an object, or nil for a missing key or a non-object.
    package subscript(key: String) -> ExampleJSON? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.last(where: { $0.0 == key })?.1
    }

    package var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The value as an integer; doubles count only when they are whole numbers (`5.0` is a fine `limit`).
    package var integerValue: Int64? {
        switch self {
        case let .integer(i): return i
        case let .double(d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }

    package var objectPairs: [(String, ExampleJSON)]? {
        if case let .object(pairs) = self { return pairs }
        return nil
    }

    /// A copy of an object with `key` set (replacing an existing member in place, or appended).
    package func setting(_ key: String, to value: ExampleJSON) -> ExampleJSON {
        guard case var .object(pairs) = self else { return self }
        if let index = pairs.lastIndex(where: { $0.0 == key }) {
            pairs[index].1 = value
        } else {
            pairs.append((key, value))
        }
        return .object(pairs)
    }
}

extension ExampleJSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    package init(nilLiteral: ()) { self = .null }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(floatLiteral value: Double) { self = .double(value) }
    package init(stringLiteral value: String) { self = .string(value) }
    package init(arrayLiteral elements: ExampleJSON...) { self = .array(elements) }
    package init(dictionaryLiteral elements: (String, ExampleJSON)...) { self = .object(elements) }
}
