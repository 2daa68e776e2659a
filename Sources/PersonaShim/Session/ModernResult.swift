/// What a result needs before it reaches a modern agent: from 2026-07-28 every result says its `resultType`
/// (`"complete"` for an ordinary answer), and cacheable ones carry `ttlMs` and `cacheScope`.
enum ModernResult {
    /// What replaces a result's opening brace: before other members, or in an empty result.
    private static let openMembers = Array(#"{"resultType":"complete","#.utf8)
    private static let openEmpty = Array(#"{"resultType":"complete""#.utf8)

    /// The replacement that makes the result at `result` (an object in `raw`) say `"resultType": "complete"`, or
    /// nil when it is not an object or already says its type (`type`, from the envelope scan).
    static func marking(_ raw: UnsafeRawBufferPointer, result: Range<Int>, type: Range<Int>?) -> (
        Range<Int>, [UInt8]
    )? {
        guard raw[result.lowerBound] == UInt8(ascii: "{"), type == nil else { return nil }
        var next = result.lowerBound + 1
        while next < result.upperBound, [0x20, 0x09, 0x0A, 0x0D].contains(raw[next]) { next += 1 }
        let empty = next >= result.upperBound || raw[next] == UInt8(ascii: "}")
        return (result.lowerBound..<result.lowerBound + 1, empty ? openEmpty : openMembers)
    }

    /// `line` (one message and its newline) with its result marked complete when it is a response that needs it.
    static func mark(_ line: [UInt8]) -> [UInt8] {
        line.withUnsafeBytes { raw in
            let end = raw.last == UInt8(ascii: "\n") ? raw.count - 1 : raw.count
            guard let envelope = try? MessageEnvelope.scan(raw, range: 0..<end), envelope.kind == .response,
                let result = envelope.result,
                let (range, replacement) = marking(raw, result: result, type: envelope.resultType)
            else { return line }
            var out = Array(raw[..<range.lowerBound])
            out.append(contentsOf: replacement)
            out.append(contentsOf: raw[range.upperBound...])
            return out
        }
    }

    /// Whether a result says it is an `input_required` interim result (`type` from the envelope scan).
    static func requiresInput(_ raw: UnsafeRawBufferPointer, type: Range<Int>?) -> Bool {
        guard let type else { return false }
        return raw[type].elementsEqual(#""input_required""#.utf8)
    }

    /// A `resources/read` result for a modern agent: what a resource holds may depend on who asks, so it is
    /// private; the server's freshness hint is kept when it gives a sound one, otherwise the result is stale at once.
    static func cacheHinted(_ value: JSONValue) -> JSONValue {
        guard case .object(var object) = value else { return value }
        if !(object["ttlMs"]?.intValue.map { $0 >= 0 } ?? false) { object["ttlMs"] = .integer(0) }
        object["cacheScope"] = "private"
        if object["resultType"] == nil { object["resultType"] = "complete" }
        return .object(object)
    }
}
