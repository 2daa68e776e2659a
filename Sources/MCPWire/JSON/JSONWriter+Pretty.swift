extension JSONWriter {
    /// Two-space indented text with `": "` after keys, for JSON that people read (the example servers put a record
    /// both in a tool result's text, for a model that reads only text, and in its structured content).
    package static func pretty(_ value: JSONValue) -> String {
        var output: [UInt8] = []
        appendPretty(value, to: &output, depth: 0)
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendPretty(_ value: JSONValue, to output: inout [UInt8], depth: Int) {
        switch value {
        case .array(let array) where !array.isEmpty:
            output.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(depth: depth + 1, to: &output)
                appendPretty(element, to: &output, depth: depth + 1)
            }
            newline(depth: depth, to: &output)
            output.append(UInt8(ascii: "]"))
        case .object(let object) where !object.isEmpty:
            output.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(depth: depth + 1, to: &output)
                appendString(member.key, to: &output)
                output.append(contentsOf: ": ".utf8)
                appendPretty(member.value, to: &output, depth: depth + 1)
            }
            newline(depth: depth, to: &output)
            output.append(UInt8(ascii: "}"))
        default:
            append(value, to: &output)
        }
    }

    private static func newline(depth: Int, to output: inout [UInt8]) {
        output.append(0x0A)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }
}
