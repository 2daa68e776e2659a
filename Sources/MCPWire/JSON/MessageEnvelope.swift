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
    /// Whether `result` is an object whose `isError` is `true` (a tool call that failed).
    public var resultIsError = false
    /// Whether `result` holds content items of type `resource` or `resource_link` (under `content`, or under
    /// `messages[].content`): the only places whose URIs the shim rewrites in tool and prompt results.
    public var resultHasResourceContent = false
    /// The value of `result`'s own `resultType` member (2026-07-28: `"complete"` or `"input_required"`), if it has one.
    public var resultType: Range<Int>?
    /// The members of `params` the shim reads, when `params` is an object.
    public var requestParams = RequestParams()

    package init(kind: Kind, hasVersion: Bool) {
        self.kind = kind
        self.hasVersion = hasVersion
    }
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
    private enum Key: UInt8 { case id, method, params, result, error, jsonrpc }

    /// Which envelope member `key` names, if any.
    @inline(__always) private static func envelopeKey(_ key: UnsafeRawBufferPointer) -> Key? {
        switch key.count {
        case 2: return JSONReader.equals(key, "id") ? .id : nil
        case 5: return JSONReader.equals(key, "error") ? .error : nil
        case 6:
            if JSONReader.equals(key, "method") { return .method }
            if JSONReader.equals(key, "params") { return .params }
            return JSONReader.equals(key, "result") ? .result : nil
        case 7: return JSONReader.equals(key, "jsonrpc") ? .jsonrpc : nil
        default: return nil
        }
    }

    /// Validates one line as JSON and classifies it as a request, notification or response, in one pass.
    public static func scan(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) throws(EnvelopeError) -> MessageEnvelope
    {
        var envelope = MessageEnvelope(kind: .notification, hasVersion: false)
        var invalid: String?
        var seen: UInt8 = 0
        var nullID = false
        do {
            var reader = JSONReader(bytes, range: range)
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: "{") else {
                _ = try reader.skipValue()
                try reader.expectEnd()
                throw EnvelopeError(code: -32600, message: "Invalid Request: a message must be a JSON object", id: nil)
            }
            try reader.scanObject { (key, reader) throws(JSONSyntaxError) in
                guard let known = envelopeKey(key) else {
                    _ = try reader.skipValue(depth: 1)
                    return
                }
                if seen & (1 << known.rawValue) != 0 {
                    invalid = "Invalid Request: duplicate key \"\(String(decoding: key, as: UTF8.self))\""
                }
                seen |= 1 << known.rawValue
                if known == .result {
                    envelope.result = try scanResult(
                        &reader, isError: &envelope.resultIsError, hasResources: &envelope.resultHasResourceContent,
                        type: &envelope.resultType)
                    return
                }
                reader.skipWhitespace()
                if known == .params && reader.peek() == UInt8(ascii: "{") {
                    envelope.params = try envelope.requestParams.scanParams(&reader, depth: 1)
                    return
                }
                let value = try reader.skipValue(depth: 1)
                let first = bytes[value.lowerBound]
                switch known {
                case .id:
                    if first == UInt8(ascii: "\"") || first == UInt8(ascii: "-") || JSONReader.isDigit(first) {
                        envelope.id = value
                    } else if first == UInt8(ascii: "n") {
                        nullID = true
                    } else {
                        invalid = "Invalid Request: id must be a string or a number"
                    }
                case .method:
                    guard first == UInt8(ascii: "\"") else {
                        invalid = "Invalid Request: method must be a string"
                        return
                    }
                    var valueReader = JSONReader(bytes, range: value)
                    envelope.method = try valueReader.parseString()
                case .params: envelope.params = value
                case .error: envelope.error = value
                case .jsonrpc: envelope.hasVersion = JSONReader.equals(bytes, value, "\"2.0\"")
                case .result: break
                }
            }
            try reader.expectEnd()
        } catch let syntax as JSONSyntaxError {
            throw EnvelopeError(
                code: -32700, message: "Parse error: \(syntax.message) at byte \(syntax.offset - range.lowerBound)",
                id: nil)
        } catch let envelope as EnvelopeError {
            throw envelope
        } catch {
            throw EnvelopeError(code: -32700, message: "Parse error", id: nil)
        }
        if let invalid { throw EnvelopeError(code: -32600, message: invalid, id: envelope.id) }
        if nullID && envelope.method != nil {
            throw EnvelopeError(code: -32600, message: "Invalid Request: id must not be null", id: nil)
        }
        if envelope.method != nil {
            // Strict and lenient peers would read such a message differently: one as a request, one as an answer.
            guard envelope.result == nil && envelope.error == nil else {
                throw EnvelopeError(
                    code: -32600, message: "Invalid Request: a request must not also carry a result or an error",
                    id: envelope.id)
            }
            envelope.kind = envelope.id == nil ? .notification : .request
        } else if envelope.result != nil || envelope.error != nil {
            guard envelope.id != nil || envelope.error != nil else {
                throw EnvelopeError(code: -32600, message: "Invalid Request: a response needs an id", id: nil)
            }
            guard envelope.result == nil || envelope.error == nil else {
                throw EnvelopeError(
                    code: -32600, message: "Invalid Request: a response carries a result or an error, not both",
                    id: envelope.id)
            }
            envelope.kind = .response
        } else {
            throw EnvelopeError(
                code: -32600, message: "Invalid Request: a message needs a method, a result or an error",
                id: envelope.id)
        }
        return envelope
    }

    /// Skips a `result` value, noting on the way whether it is an object with `"isError": true`, and where its
    /// `resultType` is.
    private static func scanResult(
        _ reader: inout JSONReader, isError: inout Bool, hasResources: inout Bool, type: inout Range<Int>?
    ) throws(JSONSyntaxError) -> Range<Int> {
        reader.skipWhitespace()
        let start = reader.index
        guard reader.peek() == UInt8(ascii: "{") else { return try reader.skipValue(depth: 1) }
        let bytes = reader.bytes
        try reader.scanObject(depth: 1) { (key, inner) throws(JSONSyntaxError) in
            if JSONReader.equals(key, "content") || JSONReader.equals(key, "messages") {
                try scanContent(&inner, depth: 2, found: &hasResources)
                return
            }
            let value = try inner.skipValue(depth: 2)
            if JSONReader.equals(key, "isError") { isError = JSONReader.equals(bytes, value, "true") }
            if JSONReader.equals(key, "resultType") { type = value }
        }
        return start..<reader.index
    }

    /// Skips (validating) content items, or messages holding them, noting an item of type `resource` or
    /// `resource_link`. Only the items' own members are looked at; text and data inside are skipped whole.
    private static func scanContent(_ reader: inout JSONReader, depth: Int, found: inout Bool)
        throws(JSONSyntaxError)
    {
        reader.skipWhitespace()
        switch reader.peek() {
        case UInt8(ascii: "["):
            guard depth < JSONReader.maximumDepth else { throw reader.fail("JSON nested too deeply") }
            reader.index += 1
            reader.skipWhitespace()
            if reader.peek() == UInt8(ascii: "]") {
                reader.index += 1
                return
            }
            while true {
                try scanContent(&reader, depth: depth + 1, found: &found)
                reader.skipWhitespace()
                guard let next = reader.peek() else { throw reader.fail("unterminated array") }
                reader.index += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else {
                    reader.index -= 1
                    throw reader.fail("expected ',' or ']' in an array")
                }
            }
        case UInt8(ascii: "{"):
            let bytes = reader.bytes
            try reader.scanObject(depth: depth) { (key, inner) throws(JSONSyntaxError) in
                if JSONReader.equals(key, "content") || JSONReader.equals(key, "messages") {
                    try scanContent(&inner, depth: depth + 1, found: &found)
                    return
                }
                let value = try inner.skipValue(depth: depth + 1)
                if JSONReader.equals(key, "type")
                    && (JSONReader.equals(bytes, value, #""resource""#)
                        || JSONReader.equals(bytes, value, #""resource_link""#))
                {
                    found = true
                }
            }
        default:
            _ = try reader.skipValue(depth: depth)
        }
    }

    /// Whether the members before the first fault of a line that is not a valid message include a `method`: then it
    /// was meant as a request or a notification, and an id in it is the sender's own, not that of a request it answers.
    public static func salvageHasMethod(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Bool {
        var found = false
        var reader = JSONReader(bytes, range: range)
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else { return false }
        try? reader.scanObject { (key, reader) throws(JSONSyntaxError) in
            guard JSONReader.equals(key, "method") else {
                _ = try reader.skipValue(depth: 1)
                return
            }
            found = true
            throw JSONSyntaxError(offset: 0, message: "found")
        }
        return found
    }

    /// The id of a line that is not a valid message, when it can still be read: the members before the first
    /// fault are read in order, so an id written before a broken part is found (servers write it first).
    public static func salvageID(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Range<Int>? {
        var found: Range<Int>?
        var reader = JSONReader(bytes, range: range)
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else { return nil }
        try? reader.scanObject { (key, reader) throws(JSONSyntaxError) in
            let value = try reader.skipValue(depth: 1)
            guard JSONReader.equals(key, "id") else { return }
            let first = bytes[value.lowerBound]
            if first == UInt8(ascii: "\"") || first == UInt8(ascii: "-") || JSONReader.isDigit(first) { found = value }
            throw JSONSyntaxError(offset: value.upperBound, message: "found")
        }
        return found
    }

    /// Calls `body` with the raw key bytes (escapes resolved) and the value range of each member of the object
    /// at `object`, validating it on the way.
    static func forEachMember(
        _ bytes: UnsafeRawBufferPointer, object: Range<Int>,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: Range<Int>) throws(JSONSyntaxError) -> Void
    ) throws(JSONSyntaxError) {
        var reader = JSONReader(bytes, range: object)
        try reader.scanObject { (key, reader) throws(JSONSyntaxError) in
            try body(key, try reader.skipValue(depth: 1))
        }
    }

    /// Whether the object at `object` has a member whose key (its bytes as written, without the quotes) passes
    /// `test`.
    package static func containsMember(
        _ bytes: UnsafeRawBufferPointer, object: Range<Int>, where test: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        guard object.count > 0, bytes[object.lowerBound] == UInt8(ascii: "{") else { return false }
        var found = false
        try? forEachMember(bytes, object: object) { (key, _) throws(JSONSyntaxError) in
            if !found && test(key) { found = true }
        }
        return found
    }

    /// The value ranges of the named members of the object at `object`. A name that occurs twice reads as
    /// absent (nil), because readers disagree on which occurrence counts.
    package static func members(
        _ bytes: UnsafeRawBufferPointer, object: Range<Int>, named keys: [String]
    ) -> [Range<Int>?] {
        let wanted = keys.map { Array($0.utf8) }
        var found = [Range<Int>?](repeating: nil, count: keys.count)
        var repeated = [Bool](repeating: false, count: keys.count)
        guard object.count > 0, bytes[object.lowerBound] == UInt8(ascii: "{") else { return found }
        try? forEachMember(bytes, object: object) { (key, value) throws(JSONSyntaxError) in
            // Lengths first: most keys differ in length, and comparing them costs nothing.
            for (index, name) in wanted.enumerated() where key.count == name.count && key.elementsEqual(name) {
                if found[index] != nil { repeated[index] = true }
                found[index] = value
            }
        }
        return zip(found, repeated).map { $1 ? nil : $0 }
    }
}
