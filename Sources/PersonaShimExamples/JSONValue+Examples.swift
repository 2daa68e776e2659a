// What the example servers need on top of MCPWire's JSONValue to read arguments and build records tersely.

import MCPWire

extension JSONValue {
    /// A copy of an object with `key` set (replacing an existing member in place, or appended).
    package func setting(_ key: String, to value: JSONValue) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object[key] = value
        return .object(object)
    }

    /// The number as an integer; whole-number literals such as `5.0` count too (a fine `limit`), as a model may
    /// write them.
    package var wholeNumber: Int? {
        guard case .number(let literal) = self else { return nil }
        if let integer = Int(literal) { return integer }
        guard let double = Double(literal), double.rounded() == double, abs(double) < 9.0e15 else { return nil }
        return Int(double)
    }

    /// An object with `members` in this order.
    package static func members(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
    }
}
