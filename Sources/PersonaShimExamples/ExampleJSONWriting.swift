// Serialising ExampleJSON, plus the string escaper the fixture's hot path shares.

/// JSON string escaping over raw UTF-8 bytes.
package enum RawJSONEscaping {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `bytes` to `out` as the inside of a JSON string (no surrounding quotes).
    ///
    /// Only `"`, `\` and control characters are escaped; other bytes, including non-ASCII UTF-8 and `/`, pass through
    /// untouched so that the echo tool stays cheap and round-trips exactly.
    @inlinable
    package static func appendEscaped<Bytes: Sequence>(_ bytes: Bytes, to out: inout [UInt8])
    where Bytes.Element == UInt8 {
        for byte in bytes {
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                out.append(byte)
            } else {
                appendEscape(for: byte, to: &out)
            }
        }
    }

    /// The slow path of `appendEscaped`, kept out of line so the loop above stays small.
    @usableFromInline
    static func appendEscape(for byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        default:
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
    }

    /// Appends `bytes` to `out` as the inside of a JSON string, copying escape-free runs in bulk.
    ///
    /// The fixture's echo tool uses this on every call and on arguments of many megabytes.
    package static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count + 16)
        var runStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscape(for: byte, to: &out)
            index += 1
            runStart = index
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
    }

    /// Appends `string` to `out` as a complete JSON string literal, quotes included.
    package static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(string.utf8, to: &out)
        out.append(UInt8(ascii: "\""))
    }
}

extension ExampleJSON {
    /// The compact JSON text of this value as UTF-8 bytes.
    package var compactBytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out, indent: nil)
        return out
    }

    /// The compact JSON text of this value.
    package var compactText: String { String(decoding: compactBytes, as: UTF8.self) }

    /// Two-space indented JSON text, for the human-readable text blocks of tool results.
    package var prettyText: String {
        var out: [UInt8] = []
        write(to: &out, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends this value to `out`; `indent` is nil for compact output, else the current nesting depth.
    package func write(to out: inout [UInt8], indent: Int?) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .integer(i): out.append(contentsOf: String(i).utf8)
        case let .double(d):
            // JSON has no NaN or infinity; null is what JavaScript's JSON.stringify writes for them.
            out.append(contentsOf: (d.isFinite ? "\(d)" : "null").utf8)
        case let .string(s): RawJSONEscaping.appendQuoted(s, to: &out)
        case let .array(items):
            writeContainer(items, open: "[", close: "]", to: &out, indent: indent) { item, out, depth in
                item.write(to: &out, indent: depth)
            }
        case let .object(pairs):
            writeContainer(pairs, open: "{", close: "}", to: &out, indent: indent) { pair, out, depth in
                RawJSONEscaping.appendQuoted(pair.0, to: &out)
                out.append(contentsOf: (depth == nil ? ":" : ": ").utf8)
                pair.1.write(to: &out, indent: depth)
            }
        }
    }

    private func writeContainer<Element>(
        _ elements: [Element], open: Unicode.Scalar, close: Unicode.Scalar, to out: inout [UInt8], indent: Int?,
        element: (Element, inout [UInt8], Int?) -> Void
    ) {
        out.append(UInt8(ascii: open))
        guard !elements.isEmpty else {
            out.append(UInt8(ascii: close))
            return
        }
        let inner = indent.map { $0 + 1 }
        for (index, item) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let inner { Self.newline(depth: inner, to: &out) }
            element(item, &out, inner)
        }
        if let indent { Self.newline(depth: indent, to: &out) }
        out.append(UInt8(ascii: close))
    }

    private static func newline(depth: Int, to out: inout [UInt8]) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }
}
