/// The host a URL or host argument names, in the one form rules compare: lower-case ASCII, no trailing dot,
/// non-ASCII labels in punycode (`xn--…`), IPv4 in dotted decimal and IPv6 in RFC 5952 form (IPv4-mapped IPv6
/// as its IPv4 address).
///
/// What is read: `scheme://[userinfo@]host[:port][/…]`, `//host…`, or a bare `host[:port][/…]`. The host is the
/// text after the last `@` of the authority, so `https://good.com@evil.com` is `evil.com`. `%XX` escapes in the
/// host are decoded first, as browsers do, then the result is judged like any other host.
///
/// What is refused (the argument cannot be judged, so the call is denied): backslashes anywhere before the
/// path (browsers read them as `/`, other clients do not), control characters and spaces, empty labels, numeric
/// hosts that are not valid addresses, IPv6 zone identifiers, and non-ASCII text this proxy cannot map the way
/// IDNA (UTS 46) would: combining marks, full-width forms, and characters with canonical decompositions it does
/// not know. Upper-case letters are lower-cased with Unicode's case mapping (so the Kelvin sign is `k`); a host
/// needing NFC normalisation is refused rather than guessed, and can always be written in punycode instead.
public struct HostName: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty, backslash, badEscape, badCharacter(String), badAddress(String), unmappable(String)

        public var description: String {
            switch self {
            case .empty: "it names no host"
            case .backslash: "it contains a backslash, which clients read differently"
            case .badEscape: "its host has a malformed %-escape"
            case .badCharacter(let host): "host \"\(host)\" contains a character hosts cannot contain"
            case .badAddress(let host): "\"\(host)\" looks like an IP address but is not a valid one"
            case .unmappable(let host):
                "host \"\(host)\" contains characters this proxy cannot normalise safely; write it in punycode (xn--)"
            }
        }
    }

    /// The host of a URL, `//host` reference, or bare host.
    public init(url text: String) throws(Failure) {
        var rest = Substring(text)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://"),
            rest[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        {
            rest = rest[rest.index(colon, offsetBy: 3)...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
        } else if !rest.hasPrefix("["), let colon = rest.firstIndex(of: ":") {
            // `host:port`, or a scheme without `//` (`https:/evil.com`, `https:evil.com`), which browsers still
            // read as a host: not guessed at.
            let after = rest[rest.index(after: colon)...]
            let port = after.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard port.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }), !port.isEmpty || after.isEmpty else {
                throw .badAddress(text)
            }
        }
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" }) ?? rest.endIndex
        if end != rest.endIndex && rest[end] == "\\" { throw .backslash }
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        try self.init(authority: authority)
    }

    private init(normalised: String) { text = normalised }

    /// A host with an optional port, no scheme or path.
    init(authority: Substring) throws(Failure) {
        var host = authority
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .badAddress(String(authority)) }
            let after = host[host.index(after: close)...]
            guard after.isEmpty || (after.hasPrefix(":") && after.dropFirst().allSatisfy(\.isASCII)) else {
                throw .badAddress(String(authority))
            }
            guard let address = IPAddress.ipv6(host[host.index(after: host.startIndex)..<close]) else {
                throw .badAddress(String(authority))
            }
            self.init(normalised: address)
            return
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard port.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { throw .badAddress(String(authority)) }
            host = host[..<colon]
        }
        try self.init(host: host)
    }

    /// A host name or address on its own (also how persona patterns are read).
    public init(host raw: Substring) throws(Failure) {
        guard !raw.utf8.contains(UInt8(ascii: "\\")) else { throw .backslash }
        var host: String
        if raw.utf8.contains(UInt8(ascii: "%")) {
            guard let decoded = PathResolver.percentDecode(raw) else { throw .badEscape }
            host = decoded
        } else {
            host = String(raw)
        }
        guard !host.utf8.contains(UInt8(ascii: "\\")) else { throw .backslash }
        // IDNA's other full stops separate labels too.
        if !host.utf8.allSatisfy({ $0 < 0x80 }) {
            host = String(
                String.UnicodeScalarView(
                    host.unicodeScalars.map { ["\u{3002}", "\u{FF0E}", "\u{FF61}"].contains($0) ? "." : $0 }))
        }
        host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty else { throw .empty }
        if host.hasPrefix("[") || host.contains(":") {
            let inner = host.hasPrefix("[") && host.hasSuffix("]") ? host.dropFirst().dropLast() : Substring(host)
            guard let address = IPAddress.ipv6(inner) else { throw .badAddress(host) }
            text = address
            return
        }
        if IPAddress.endsInNumber(Substring(host)) {
            guard let address = IPAddress.ipv4(Substring(host)) else { throw .badAddress(host) }
            text = address
            return
        }
        var labels: [String] = []
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw .badCharacter(host) }
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                guard label.utf8.allSatisfy(Self.isLabelByte) else { throw .badCharacter(host) }
                labels.append(String(label))
                continue
            }
            let scalars = Array(label.unicodeScalars)
            guard scalars.allSatisfy({ $0.isASCII ? Self.isLabelByte(UInt8($0.value)) : Self.isMappable($0) }),
                let encoded = Punycode.encode(scalars)
            else { throw .unmappable(host) }
            labels.append("xn--" + encoded)
        }
        let joined = labels.joined(separator: ".")
        guard joined.utf8.count <= 253 else { throw .badCharacter(host) }
        text = joined
    }

    static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || byte &- UInt8(ascii: "0") < 10
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Non-ASCII characters accepted as they are: letters and digits that are already lower-case and in NFC.
    /// Combining marks (which NFC may compose), and blocks known to hold characters NFC rewrites or UTS 46 maps
    /// (Hangul jamo, Greek extended, CJK compatibility ideographs, presentation and full-width forms, the Indic
    /// letters excluded from composition) are refused.
    static func isMappable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .otherLetter, .modifierLetter, .decimalNumber: break
        default: return false
        }
        guard !scalar.properties.isDefaultIgnorableCodePoint, !scalar.properties.changesWhenLowercased else {
            return false
        }
        let value = scalar.value
        let refused: [ClosedRange<UInt32>] = [
            0x0958...0x095F, 0x09DC...0x09DF, 0x0A33...0x0A36, 0x0A59...0x0A5E, 0x0B5C...0x0B5D, 0x0F43...0x0FB9,
            0x1100...0x11FF, 0x1F00...0x1FFF, 0x3130...0x318F, 0xA960...0xA97F, 0xD7B0...0xD7FF, 0xF900...0xFAFF,
            0xFB00...0xFDFF, 0xFE70...0xFEFF, 0xFF00...0xFFEF, 0x1D400...0x1D7FF, 0x2F800...0x2FA1F,
        ]
        return !refused.contains { $0.contains(value) }
    }

    public var description: String { text }
}

/// `hosts.allow` / `hosts.deny`: exact hosts, `*.example.com` for any name below `example.com` (not the name
/// itself), or `*` for every host. Patterns are normalised like arguments when the persona loads.
public struct HostScope: Sendable {
    public struct Pattern: Sendable, Equatable {
        /// The pattern as written.
        public let text: String
        /// The normalised host, or the normalised suffix (with its leading dot) for a wildcard.
        let host: String
        let isWildcard: Bool

        public init(_ text: String) throws(HostName.Failure) {
            self.text = text
            if text == "*" {
                (host, isWildcard) = ("", true)
            } else if text.hasPrefix("*.") {
                (host, isWildcard) = ("." + (try HostName(host: text.dropFirst(2))).text, true)
            } else {
                (host, isWildcard) = ((try HostName(host: Substring(text))).text, false)
            }
        }

        func matches(_ name: HostName) -> Bool {
            isWildcard ? name.text.hasSuffix(host) && name.text.count > host.count : name.text == host
        }
    }

    public let allow: [Pattern]
    public let deny: [Pattern]

    public init(allow: [Pattern], deny: [Pattern]) {
        self.allow = allow
        self.deny = deny
    }

    /// nil when the host may be used; otherwise why not. With no allow patterns only the deny patterns apply.
    public func violation(_ host: HostName) -> String? {
        if let pattern = deny.first(where: { $0.matches(host) }) {
            return "host \"\(host)\" matches hosts.deny \"\(pattern.text)\""
        }
        if !allow.isEmpty && !allow.contains(where: { $0.matches(host) }) {
            return "host \"\(host)\" is not in hosts.allow"
        }
        return nil
    }
}
