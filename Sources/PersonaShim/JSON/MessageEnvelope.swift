/// The JSON-RPC 2.0 shape of one message, located without building a tree.
///
/// Ranges index into the buffer that was scanned, so the router can forward a message as the peer
/// wrote it and replace only the bytes it must (the id, a tool name).
public struct MessageEnvelope: Sendable {
    public enum Kind: Sendable, Equatable { case request, notification, response }

    public var kind: Kind
    /// The raw bytes of `id` (a number or a string literal, as written).
    public var id: Range<Int>?
    public var method: String?
    public var params: Range<Int>?
    public var result: Range<Int>?
    public var error: Range<Int>?
    /// Whether `"jsonrpc": "2.0"` was present.
    public var hasVersion: Bool
}

/// Why a line is not a usable JSON-RPC message, with the JSON-RPC error code to answer with.
public struct EnvelopeError: Error, Sendable, CustomStringConvertible {
    public let code: Int
    public let message: String
    /// The id, when it could be read, so the error response can carry it.
    public let id: Range<Int>?

    public var description: String { message }
}

extension MessageEnvelope {
    private static let keyID = Array("id".utf8)
    private static let keyMethod = Array("method".utf8)
    private static let keyParams = Array("params".utf8)
    private static let keyResult = Array("result".utf8)
    private static let keyError = Array("error".utf8)
    private static let keyJSONRPC = Array("jsonrpc".utf8)

    /// Validates one line as JSON and classifies it as a request, notification or response.
    public static func scan(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) throws(EnvelopeError) -> MessageEnvelope {
        var id: Range<Int>?
        var method: String?
        var params: Range<Int>?
        var result: Range<Int>?
        var error: Range<Int>?
        var hasVersion = false
        var invalid: String?
        do {
            var reader = JSONReader(bytes, range: range)
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: "{") else {
                _ = try reader.skipValue()
                try reader.expectEnd()
                throw EnvelopeError(code: -32600, message: "Invalid Request: a message must be a JSON object", id: nil)
            }
            let objectRange = try reader.skipValue()
            try reader.expectEnd()
            try forEachMember(bytes, object: objectRange) { (key, value) throws(JSONSyntaxError) in
                if key.elementsEqual(keyID) {
                    let first = bytes[value.lowerBound]
                    if first == UInt8(ascii: "\"") || first == UInt8(ascii: "-") || JSONReader.isDigit(first) {
                        id = value
                    } else if first != UInt8(ascii: "n") {
                        invalid = "Invalid Request: id must be a string or a number"
                    }
                } else if key.elementsEqual(keyMethod) {
                    guard bytes[value.lowerBound] == UInt8(ascii: "\"") else {
                        invalid = "Invalid Request: method must be a string"
                        return
                    }
                    var valueReader = JSONReader(bytes, range: value)
                    method = try valueReader.parseString()
                } else if key.elementsEqual(keyParams) {
                    params = value
                } else if key.elementsEqual(keyResult) {
                    result = value
                } else if key.elementsEqual(keyError) {
                    error = value
                } else if key.elementsEqual(keyJSONRPC) {
                    hasVersion = bytes[value].elementsEqual("\"2.0\"".utf8)
                }
            }
        } catch let syntax as JSONSyntaxError {
            throw EnvelopeError(code: -32700, message: "Parse error: \(syntax.message) at byte \(syntax.offset - range.lowerBound)", id: nil)
        } catch let envelope as EnvelopeError {
            throw envelope
        } catch {
            throw EnvelopeError(code: -32700, message: "Parse error", id: nil)
        }
        if let invalid { throw EnvelopeError(code: -32600, message: invalid, id: id) }
        let kind: Kind
        if method != nil {
            kind = id == nil ? .notification : .request
        } else if result != nil || error != nil {
            guard id != nil || error != nil else {
                throw EnvelopeError(code: -32600, message: "Invalid Request: a response needs an id", id: nil)
            }
            kind = .response
        } else {
            throw EnvelopeError(code: -32600, message: "Invalid Request: a message needs a method, a result or an error", id: id)
        }
        return MessageEnvelope(
            kind: kind, id: id, method: method, params: params, result: result, error: error, hasVersion: hasVersion)
    }

    /// Calls `body` with the raw key bytes (escapes resolved) and the value range of each member of the object
    /// at `object`, which must already be known to be valid JSON.
    static func forEachMember(
        _ bytes: UnsafeRawBufferPointer, object: Range<Int>,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: Range<Int>) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        var reader = JSONReader(bytes, range: object)
        try reader.expect(UInt8(ascii: "{"), "an object")
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "}") { return }
        while true {
            reader.skipWhitespace()
            let keyRange = try reader.skipString()
            let rawKey = UnsafeRawBufferPointer(rebasing: bytes[(keyRange.lowerBound + 1)..<(keyRange.upperBound - 1)])
            try reader.expect(UInt8(ascii: ":"), "':'")
            let valueRange = try reader.skipValue()
            if rawKey.contains(UInt8(ascii: "\\")) {
                var keyReader = JSONReader(bytes, range: keyRange)
                let decoded = Array(try keyReader.parseString().utf8)
                try withBytes(decoded) { (decodedKey) throws(JSONSyntaxError) in try body(decodedKey, valueRange) }
            } else {
                try body(rawKey, valueRange)
            }
            reader.skipWhitespace()
            guard let next = reader.peek() else { return }
            reader.index += 1
            if next == UInt8(ascii: "}") { return }
        }
    }

    /// The value ranges of the named members of the object at `object` (first occurrence wins).
    static func members(_ bytes: UnsafeRawBufferPointer, object: Range<Int>, named keys: [String]) -> [Range<Int>?] {
        let wanted = keys.map { Array($0.utf8) }
        var found = [Range<Int>?](repeating: nil, count: keys.count)
        guard object.count > 0, bytes[object.lowerBound] == UInt8(ascii: "{") else { return found }
        try? forEachMember(bytes, object: object) { (key, value) throws(JSONSyntaxError) in
            for (index, name) in wanted.enumerated() where found[index] == nil && key.elementsEqual(name) {
                found[index] = value
            }
        }
        return found
    }
}

/// Copies `range` of `bytes` to `output`, substituting the given sub-ranges (sorted, non-overlapping).
func appendSpliced(
    _ bytes: UnsafeRawBufferPointer, range: Range<Int>, replacing replacements: [(Range<Int>, [UInt8])],
    to output: inout [UInt8]
) {
    var position = range.lowerBound
    for (target, replacement) in replacements {
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<target.lowerBound]))
        output.append(contentsOf: replacement)
        position = target.upperBound
    }
    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<range.upperBound]))
}
