import Platform

/// The fields of one audit record, appended straight into raw memory: an append is a capacity check and a copy.
///
/// Inside `AuditLog.stage` a value works on the log's own buffer and hands it back when the closure returns, so it
/// must not escape that closure. `encode` builds fields into a scratch buffer for parts of records made once.
public struct AuditFields {
    var base: UnsafeMutableRawPointer
    var count: Int
    var capacity: Int

    /// Fields encoded into a new array (each starting with its comma), for appending later with `append(encoded:)`.
    public static func encode(_ build: (inout AuditFields) -> Void) -> [UInt8] {
        var fields = AuditFields(base: malloc(256)!, count: 0, capacity: 256)
        build(&fields)
        let bytes = Array(UnsafeRawBufferPointer(start: fields.base, count: fields.count))
        free(fields.base)
        return bytes
    }

    // MARK: Fields

    public mutating func add(_ key: StaticString, _ value: String) {
        appendKey(key)
        appendString(value)
    }

    /// A digest as `"sha256:<64 hex digits>"`.
    public mutating func add(_ key: StaticString, digest: SHA256.Digest) {
        appendKey(key)
        reserve(73)
        append(literal: "\"sha256:")
        digest.writeHex(to: base + count)
        count += 64
        append(byte: UInt8(ascii: "\""))
    }

    public mutating func add(_ key: StaticString, integer value: Int) {
        appendKey(key)
        appendInteger(value)
    }

    /// A value given as its JSON text (an error code as the server wrote it).
    public mutating func add(_ key: StaticString, json text: [UInt8]) {
        appendKey(key)
        append(encoded: text)
    }

    /// Milliseconds from nanoseconds, with three decimals: `12.345`.
    public mutating func add(_ key: StaticString, millisecondsFromNanoseconds nanoseconds: UInt64) {
        appendKey(key)
        let micros = Int((nanoseconds + 500) / 1000)
        appendInteger(micros / 1000)
        let fraction = micros % 1000
        reserve(4)
        append(byte: UInt8(ascii: "."))
        append(byte: UInt8(ascii: "0") + UInt8(fraction / 100))
        append(byte: UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        append(byte: UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// A field whose name is only known at run time.
    public mutating func add(named key: String, _ value: JSONValue) {
        append(byte: UInt8(ascii: ","))
        appendString(key)
        append(byte: UInt8(ascii: ":"))
        var encoded: [UInt8] = []
        JSONWriter.append(value, to: &encoded)
        append(encoded: encoded)
    }

    /// Fields encoded earlier (each starting with its comma).
    public mutating func append(encoded bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            if let source = raw.baseAddress { append(source, count: raw.count) }
        }
    }

    // MARK: Bytes

    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @inline(never) private mutating func grow(to needed: Int) {
        capacity = max(capacity * 2, needed)
        base = realloc(base, capacity)!
    }

    @inline(__always) mutating func append(_ source: UnsafeRawPointer, count extra: Int) {
        reserve(extra)
        (base + count).copyMemory(from: source, byteCount: extra)
        count += extra
    }

    /// Appends one byte; room for it must be reserved first when several follow, or this reserves it.
    @inline(__always) mutating func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    mutating func append(literal: StaticString) {
        append(literal.utf8Start, count: literal.utf8CodeUnitCount)
    }

    /// `,"key":`
    @inline(__always) mutating func appendKey(_ key: StaticString) {
        let length = key.utf8CodeUnitCount
        reserve(length + 4)
        base.storeBytes(of: UInt8(ascii: ","), toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: "\""), toByteOffset: count + 1, as: UInt8.self)
        (base + count + 2).copyMemory(from: key.utf8Start, byteCount: length)
        base.storeBytes(of: UInt8(ascii: "\""), toByteOffset: count + 2 + length, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: ":"), toByteOffset: count + 3 + length, as: UInt8.self)
        count += length + 4
    }

    /// `string` as a JSON string literal, escaping only what RFC 8259 requires (as `JSONWriter` does).
    mutating func appendString(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            reserve(bytes.count + 2)
            append(byte: UInt8(ascii: "\""))
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if index > runStart { append(bytes.baseAddress! + runStart, count: index - runStart) }
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): append(literal: "\\\"")
                case UInt8(ascii: "\\"): append(literal: "\\\\")
                case 0x0A: append(literal: "\\n")
                case 0x0D: append(literal: "\\r")
                case 0x09: append(literal: "\\t")
                default:
                    let hex: StaticString = "0123456789abcdef"
                    append(literal: "\\u00")
                    append(byte: hex.utf8Start[Int(byte >> 4)])
                    append(byte: hex.utf8Start[Int(byte & 0x0F)])
                }
            }
            if bytes.count > runStart { append(bytes.baseAddress! + runStart, count: bytes.count - runStart) }
            append(byte: UInt8(ascii: "\""))
        }
    }

    mutating func appendInteger(_ value: Int) {
        reserve(21)
        if value < 0 { append(byte: UInt8(ascii: "-")) }
        // Digits are written from the end of a small stack buffer (division by the constant 10 is a multiply).
        var magnitude = value.magnitude
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            (base + count).copyMemory(from: digits.baseAddress! + start, byteCount: digits.count - start)
            count += digits.count - start
        }
    }
}
