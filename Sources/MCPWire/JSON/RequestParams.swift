/// The members of a request's `params` the shim reads, found while the envelope is scanned (one pass over the
/// message), together with any key written twice in `params` or in the `_meta` and `ref` objects in it: readers
/// disagree on which occurrence wins, so the shim could judge one tool name while the server runs another.
public struct RequestParams: Sendable {
    public var name: Range<Int>?
    public var arguments: Range<Int>?
    public var meta: Range<Int>?
    public var progressToken: Range<Int>?
    public var uri: Range<Int>?
    public var ref: Range<Int>?
    public var cursor: Range<Int>?
    public var level: Range<Int>?
    /// What a stateless revision's request says in `_meta` (`io.modelcontextprotocol/` keys): found here so that
    /// the session reads each request's `_meta` once, not once per question it asks of it.
    public var modernMeta = ModernMeta()
    /// Whether `_meta` has a key that is neither `progressToken` nor one the specification reserves.
    public var metaHasOtherKeys = false
    /// A key that appears twice, if any.
    public var duplicate: String?

    private enum Kind { case params, meta, ref }

    /// Scans the object at the reader (validating it, as `skipValue` would) and notes its members.
    mutating func scanParams(_ reader: inout JSONReader, depth: Int) throws(JSONSyntaxError) -> Range<Int> {
        reader.skipWhitespace()
        let start = reader.index
        try scanObject(&reader, depth: depth, kind: .params)
        return start..<reader.index
    }

    private mutating func scanObject(_ reader: inout JSONReader, depth: Int, kind: Kind) throws(JSONSyntaxError) {
        // Known keys are tracked in a bit set; others (rare in MCP params) in a list made only when one occurs.
        var seen: UInt16 = 0
        var others: [[UInt8]] = []
        try reader.scanObject(depth: depth) { (key, inner) throws(JSONSyntaxError) in
            let known = Self.knownKey(key, kind)
            if let known {
                if seen & (1 << known) != 0 { duplicate = duplicate ?? String(decoding: key, as: UTF8.self) }
                seen |= 1 << known
            } else {
                if kind == .meta && !Self.isReserved(key) { metaHasOtherKeys = true }
                if others.contains(where: { $0.elementsEqual(key) }) {
                    duplicate = duplicate ?? String(decoding: key, as: UTF8.self)
                }
                others.append(Array(key))
            }
            inner.skipWhitespace()
            let start = inner.index
            let nested: Kind? =
                kind == .params && known == 2 ? .meta : kind == .params && known == 4 ? .ref : nil
            if let nested, inner.peek() == UInt8(ascii: "{") {
                try scanObject(&inner, depth: depth + 1, kind: nested)
            } else {
                _ = try inner.skipValue(depth: depth + 1)
            }
            let value = start..<inner.index
            switch (kind, known) {
            case (.params, 0): name = value
            case (.params, 1): arguments = value
            case (.params, 2): meta = value
            case (.params, 3): uri = value
            case (.params, 4): ref = value
            case (.params, 5): cursor = value
            case (.params, 6): level = value
            case (.meta, 0): progressToken = value
            case (.meta, 1): modernMeta.protocolVersion = value
            case (.meta, 2): modernMeta.clientCapabilities = value
            case (.meta, 3): modernMeta.clientInfo = value
            case (.meta, 4): modernMeta.logLevel = value
            default: break
            }
        }
    }

    private static func knownKey(_ key: UnsafeRawBufferPointer, _ kind: Kind) -> Int? {
        switch kind {
        case .params:
            switch key.count {
            case 3:
                if JSONReader.equals(key, "uri") { return 3 }
                return JSONReader.equals(key, "ref") ? 4 : nil
            case 4: return JSONReader.equals(key, "name") ? 0 : nil
            case 5:
                if JSONReader.equals(key, "_meta") { return 2 }
                return JSONReader.equals(key, "level") ? 6 : nil
            case 6: return JSONReader.equals(key, "cursor") ? 5 : nil
            case 9: return JSONReader.equals(key, "arguments") ? 1 : nil
            default: return nil
            }
        case .meta:
            switch key.count {
            case 13: return JSONReader.equals(key, "progressToken") ? 0 : nil
            case 32: return JSONReader.equals(key, "io.modelcontextprotocol/logLevel") ? 4 : nil
            case 34: return JSONReader.equals(key, "io.modelcontextprotocol/clientInfo") ? 3 : nil
            case 39: return JSONReader.equals(key, "io.modelcontextprotocol/protocolVersion") ? 1 : nil
            case 42: return JSONReader.equals(key, "io.modelcontextprotocol/clientCapabilities") ? 2 : nil
            default: return nil
            }
        case .ref:
            if JSONReader.equals(key, "type") { return 0 }
            if JSONReader.equals(key, "name") { return 1 }
            return JSONReader.equals(key, "uri") ? 2 : nil
        }
    }

    /// Whether a `_meta` key is one the specification reserves (`MCPProtocol.reservedMetaPrefix`).
    private static func isReserved(_ key: UnsafeRawBufferPointer) -> Bool {
        let prefix: StaticString = "io.modelcontextprotocol/"
        return key.count >= prefix.utf8CodeUnitCount
            && JSONReader.equals(UnsafeRawBufferPointer(rebasing: key[0..<prefix.utf8CodeUnitCount]), prefix)
    }
}

/// The value ranges of the `_meta` members a stateless revision's request carries.
public struct ModernMeta: Sendable {
    public var protocolVersion: Range<Int>?
    public var clientCapabilities: Range<Int>?
    public var clientInfo: Range<Int>?
    public var logLevel: Range<Int>?
}
