/// IP address forms, read the way the C library and browsers read them, so a host rule sees the address a
/// connection would reach: `0x7f.1`, `2130706433`, `0177.0.0.1` and `127.1` are all 127.0.0.1.
enum IPAddress {
    /// An IPv4 address in `inet_aton` syntax (one to four parts, each decimal, `0x` hex or `0` octal, the last
    /// filling the remaining bytes), as dotted decimal; nil if it is not one or a part is out of range.
    static func ipv4(_ text: Substring) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = number(part) else { return nil }
            values.append(value)
        }
        var address: UInt64 = 0
        for (index, value) in values.enumerated() {
            if index < values.count - 1 {
                guard value <= 255 else { return nil }
                address |= value << UInt64(8 * (3 - index))
            } else {
                let bits = UInt64(8 * (4 - index))
                guard value < (1 << bits) else { return nil }
                address |= value
            }
        }
        return dotted(UInt32(address))
    }

    static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\((address >> 16) & 255).\((address >> 8) & 255).\(address & 255)"
    }

    /// Whether the text looks like an attempt at a number (then it must parse as IPv4, or the host is refused):
    /// browsers treat a host whose last label is numeric as an address.
    static func endsInNumber(_ host: Substring) -> Bool {
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.last?.isEmpty == true && labels.count > 1 { labels.removeLast() }
        guard let last = labels.last, !last.isEmpty else { return false }
        if last.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) { return true }
        let lower = last.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    private static func number(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.utf8.count <= 40 else { return nil }
        var digits = part
        var radix: UInt64 = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
            if digits.isEmpty { return 0 }
        } else if digits.count > 1 && digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        var value: UInt64 = 0
        for character in digits {
            guard let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
            value = value * radix + UInt64(digit)
            if value > UInt64(UInt32.max) { return nil }
        }
        return value
    }

    /// An IPv6 address (without brackets) in RFC 5952 form, or its IPv4 form when it is IPv4-mapped
    /// (`::ffff:127.0.0.1`); nil if it is not an address. Zone identifiers (`%eth0`) are refused.
    static func ipv6(_ text: Substring) -> String? {
        guard !text.isEmpty, !text.contains("%") else { return nil }
        var groups: [UInt16] = []
        var compressAt: Int?
        var rest = text
        if rest.hasPrefix("::") {
            compressAt = 0
            rest = rest.dropFirst(2)
        }
        while !rest.isEmpty {
            let end = rest.firstIndex(of: ":") ?? rest.endIndex
            let piece = rest[..<end]
            if piece.contains(".") {
                guard end == rest.endIndex, groups.count <= 6, let v4 = ipv4Strict(piece) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                rest = rest[end...]
                break
            }
            guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
            groups.append(value)
            rest = rest[end...]
            if rest.hasPrefix("::") {
                guard compressAt == nil else { return nil }
                compressAt = groups.count
                rest = rest.dropFirst(2)
            } else if rest.hasPrefix(":") {
                rest = rest.dropFirst()
                guard !rest.isEmpty else { return nil }
            }
        }
        if let compressAt {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: [UInt16](repeating: 0, count: 8 - groups.count), at: compressAt)
        }
        guard groups.count == 8 else { return nil }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            return dotted(UInt32(groups[6]) << 16 | UInt32(groups[7]))
        }
        return canonical(groups)
    }

    /// Dotted decimal with exactly four decimal parts, as IPv6 allows in its last 32 bits.
    private static func ipv4Strict(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var address: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.count == 1 || !part.hasPrefix("0"),
                let value = UInt32(part), value <= 255
            else { return nil }
            address = address << 8 | value
        }
        return address
    }

    /// RFC 5952: lower-case hex, no leading zeros, the longest run of two or more zero groups written `::`.
    private static func canonical(_ groups: [UInt16]) -> String {
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > bestLength {
                bestStart = start
                bestLength = index - start
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
