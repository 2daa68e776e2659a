import Platform

/// A modern agent repeats the same `_meta` on every request: what was read from it once is reused while the
/// bytes are the same, so a request costs a comparison, not a parse.
extension SessionCore {
    /// The client capabilities object at `range`: `{}` without parsing, and the previous request's value when
    /// the agent sent the same bytes again.
    func declaredCapabilities(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> JSONObject {
        if range.count == 2 && raw[range.lowerBound + 1] == UInt8(ascii: "}") { return JSONObject() }
        if let last = lastCapabilities, Self.same(last.bytes, raw, range) { return last.value }
        let value = (try? JSONValue.parse(raw, range: range))?.objectValue ?? JSONObject()
        lastCapabilities = (Array(raw[range]), value)
        return value
    }

    /// Whether `bytes` are exactly those of `raw` at `range` (nil is never equal).
    static func same(_ bytes: [UInt8]?, _ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard let bytes, bytes.count == range.count else { return false }
        guard !bytes.isEmpty else { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress!, raw.baseAddress! + range.lowerBound, range.count) == 0 }
    }
}

/// What `validModernMeta` read from the last valid `_meta` (ranges relative to its start). A class, so that looking
/// at it on every request takes a reference: copying it out as a tuple cost more than reading the `_meta` again.
final class ModernMetaMemo {
    let bytes: [UInt8]
    let version: String
    let capabilities: Range<Int>
    let clientInfo: Range<Int>?

    init(_ bytes: [UInt8], _ version: String, _ capabilities: Range<Int>, _ clientInfo: Range<Int>?) {
        self.bytes = bytes
        self.version = version
        self.capabilities = capabilities
        self.clientInfo = clientInfo
    }
}
