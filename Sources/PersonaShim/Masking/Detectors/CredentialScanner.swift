/// Credentials written next to their keyword; the match covers the value only, so the keyword stays readable.
///
/// - `Bearer <token>` (any case): a token of 8 or more of `A-Za-z0-9-._~+/` (then `=` padding) with at least one
///   digit, so prose (`the bearer of bad news`, `bearer authentication`, `bearer expires_in`) does not match.
/// - The password in a URL's user information (`postgres://app:<password>@host`), found by the e-mail scanner
///   from the `@`.
/// - `<name>=<value>` and `<name>: <value>` where the name, ignoring case, `_`, `-` and `.`, ends in `password`,
///   `passwd`, `secret`, `secretkey`, `apikey`, `accesstoken`, `refreshtoken`, `authtoken` or `apitoken`
///   (`DB_PASSWORD=`, `"client_secret": "…"`, `spring.datasource.password=`, `apiKey:`). The value is a quoted
///   string (JSON, YAML, code; also JSON escaped inside a JSON string, `{\"password\":\"…\"}`) or a bare token. A bare token after `=` counts only when it touches the `=`
///   (`password=x`, not code's `password = readPassword()`), and after an unquoted `name:` only when it looks
///   like a secret (6 or more characters, with a digit, a capital after the first character, or a symbol), so
///   `password: it still fails` in a ticket does not match. Placeholders (`true`, `false`, `null`, `none`,
///   `$VAR`, `${…}`, `<…>`, `***`, `[redacted]`, `%s`) never match.
/// - `aws_secret_access_key`, `aws_secret_key`, `SecretAccessKey` (any case and separators) followed by exactly 40
///   of `A-Za-z0-9/+`: the `aws-secret-key` detector (an AWS secret key has no prefix, so the name is the context
///   that keeps it precise).
extension BuiltInScanner {
    mutating func scanBearer(at index: Int) -> Int {
        guard text.hasIgnoringCase("bearer", at: index), startsWord(index), text[index + 6] == UInt8(ascii: " ") else {
            return index + 1
        }
        let start = text.runEnd(from: index + 6) { $0 == UInt8(ascii: " ") }
        let end = text.runEnd(from: start, while: Self.isTokenByte)
        let padded = text.runEnd(from: end) { $0 == UInt8(ascii: "=") }
        let token = start..<end
        guard token.count >= 8, endsWord(padded),
            token.contains(where: { Byte.isDigit(text[$0]) })
        else { return max(index + 6, end) }
        found(.credential, start..<padded)
        // The token may itself be a JWT or a provider key: let those scanners see it (the longer or earlier-listed
        // detector wins the overlap).
        return start
    }

    mutating func scanSeparator(at index: Int) -> Int {
        let separator = text[index]
        if separator == UInt8(ascii: "=") {
            let before = text[index - 1]
            // Comparisons and arrows: `==`, `!=`, `<=`, `>=`, `=>` is an assignment in some languages but `==` never.
            if before == UInt8(ascii: "=") || before == UInt8(ascii: "!") || before == UInt8(ascii: "<")
                || before == UInt8(ascii: ">") || text[index + 1] == UInt8(ascii: "=")
            {
                return index + 1
            }
        }
        // A separator inside a value just matched (`password=a=b`) starts nothing: a scan stays linear.
        guard index >= credentialValueEnd, endsLikeKeyword(before: index), let name = nameBefore(index) else {
            return index + 1
        }
        let kind = Self.kind(of: text, name.range)
        guard kind != .none else { return index + 1 }
        var start = text.runEnd(from: index + 1) { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let spaced = start > index + 1
        let quote = text[start]
        var end: Int
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            start += 1
            end = start
            while end < text.count && end - start <= Self.maximumValue && text[end] != quote
                && text[end] != UInt8(ascii: "\n")
            {
                end += text[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard end < text.count, text[end] == quote, end - start <= Self.maximumValue else { return index + 1 }
        } else if quote == UInt8(ascii: "\\") && text[start + 1] == UInt8(ascii: "\"") {
            // JSON inside a JSON string, scanned unescaped: `{\"password\":\"value\"}`. The value ends at a `\"`
            // whose quote the inner string does not escape (`\\\"` is a quote inside the value).
            start += 2
            end = start
            var innerEscape = false
            while true {
                guard end < text.count, end - start <= Self.maximumValue, text[end] != UInt8(ascii: "\""),
                    text[end] != UInt8(ascii: "\n")
                else { return index + 1 }
                guard text[end] == UInt8(ascii: "\\") else {
                    innerEscape = false
                    end += 1
                    continue
                }
                let decoded = text[end + 1]
                if decoded == UInt8(ascii: "\"") && !innerEscape { break }
                innerEscape = decoded == UInt8(ascii: "\\") && !innerEscape
                end += 2
            }
        } else {
            end = text.runEnd(from: start, limit: start + Self.maximumValue + 1, while: Self.isBareValueByte)
            guard end - start <= Self.maximumValue else { return end }
            if kind == .awsSecret {
                // An AWS secret key is exactly 40 characters; a bare run stops at the first that cannot be in one.
                end = text.runEnd(from: start, while: Byte.isBase64)
                guard !Byte.isBase64(text[end]) && text[end] != UInt8(ascii: "=") else { return end }
            } else if separator == UInt8(ascii: "=") {
                guard !spaced, text[end] != UInt8(ascii: "(") else { return max(index + 1, end) }
            } else if !name.quoted {
                guard looksLikeSecret(start..<end) else { return max(index + 1, end) }
            }
        }
        let value = start..<end
        guard !value.isEmpty, !isPlaceholder(value) else { return max(index + 1, end) }
        if kind == .awsSecret && enabled.contains(.awsSecretKey) && value.count == 40
            && value.allSatisfy({ Byte.isBase64(text[$0]) })
        {
            found(.awsSecretKey, value)
        }
        if enabled.contains(.credential) { found(.credential, value) }
        credentialValueEnd = end
        return start
    }

    /// Every keyword ends in `rd`, `wd`, `et`, `ey` or `en` (any case, as `kind(of:)` reads it: `_`, `-` and `.`
    /// between the two letters are dropped): most `name:` and `name=` (`"text":`, `"n":`, `id=`) are rejected on
    /// those two letters, before the name is read.
    @inline(__always) private func endsLikeKeyword(before separator: Int) -> Bool {
        var last = separator - 1
        while last > separator - 8 && text[last] == UInt8(ascii: " ") { last -= 1 }
        if text[last] == UInt8(ascii: "\"") || text[last] == UInt8(ascii: "'") { last -= 1 }
        if text[last] == UInt8(ascii: "\\") { last -= 1 }
        let byte = text[last] | 0x20
        guard
            byte == UInt8(ascii: "d") || byte == UInt8(ascii: "t") || byte == UInt8(ascii: "y")
                || byte == UInt8(ascii: "n")
        else { return false }
        var previous = last - 1
        while previous > last - 64, previous >= 0,
            text[previous] == UInt8(ascii: "_") || text[previous] == UInt8(ascii: "-")
                || text[previous] == UInt8(ascii: ".")
        {
            previous -= 1
        }
        let before = text[previous] | 0x20
        if byte == UInt8(ascii: "d") { return before == UInt8(ascii: "r") || before == UInt8(ascii: "w") }
        return before == UInt8(ascii: "e")
    }

    /// The name before a separator: an identifier of letters, digits, `_`, `-` and `.`, optionally quoted, with
    /// spaces allowed between it and the separator.
    private func nameBefore(_ separator: Int) -> (range: Range<Int>, quoted: Bool)? {
        var end = separator
        while end > 0 && end > separator - 8 && text[end - 1] == UInt8(ascii: " ") { end -= 1 }
        let quote = text[end - 1]
        let quoted = quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'")
        if quoted { end -= 1 }
        let escaped = quoted && text[end - 1] == UInt8(ascii: "\\")
        if escaped { end -= 1 }
        var start = end
        while start > 0 && end - start < 64 && Self.isNameByte(text[start - 1]) { start -= 1 }
        guard end - start >= 3, !Self.isNameByte(text[start - 1]) else { return nil }
        if quoted && text[start - 1] != quote { return nil }
        if escaped && text[start - 2] != UInt8(ascii: "\\") { return nil }
        return (start..<end, quoted)
    }

    enum NameKind { case none, credential, awsSecret }

    /// The longest value a credential match takes (longer runs are data, not a password); it bounds the work
    /// one separator can cause.
    static let maximumValue = 1024

    private static let credentialSuffixes: [StaticString] = [
        "password", "passwd", "secret", "secretkey", "apikey", "accesstoken", "refreshtoken", "authtoken", "apitoken",
    ]
    private static let placeholders: [StaticString] = ["true", "false", "null", "none", "nil", "undefined"]

    /// What a name announces, judged on its letters and digits in lowercase (`DB_PASSWORD` as `dbpassword`).
    static func kind(of text: ScanText, _ name: Range<Int>) -> NameKind {
        var normalized = SIMD64<UInt8>()
        var length = 0
        for index in name where Byte.isAlnum(text[index]) && length < 64 {
            normalized[length] = text[index] | (Byte.isLetter(text[index]) ? 0x20 : 0)
            length += 1
        }
        func endsWith(_ suffix: StaticString) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard length >= count else { return false }
            for offset in 0..<count where normalized[length - count + offset] != suffix.utf8Start[offset] {
                return false
            }
            return true
        }
        if endsWith("secretaccesskey") || endsWith("awssecretkey") { return .awsSecret }
        return credentialSuffixes.contains(where: endsWith) ? .credential : .none
    }

    private func looksLikeSecret(_ value: Range<Int>) -> Bool {
        guard value.count >= 6 else { return false }
        return value.contains { index in
            let byte = text[index]
            return Byte.isDigit(byte) || (Byte.isUpper(byte) && index > value.lowerBound) || !Byte.isLetter(byte)
        }
    }

    private func isPlaceholder(_ value: Range<Int>) -> Bool {
        let first = text[value.lowerBound]
        if first == UInt8(ascii: "$") || first == UInt8(ascii: "{") || first == UInt8(ascii: "<")
            || first == UInt8(ascii: "*") || first == UInt8(ascii: "[") || first == UInt8(ascii: "%")
        {
            return true
        }
        return Self.placeholders.contains {
            $0.utf8CodeUnitCount == value.count && text.hasIgnoringCase($0, at: value.lowerBound)
        }
    }

    @inline(__always) private static func isNameByte(_ byte: UInt8) -> Bool {
        Byte.isWord(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// What a bare value can hold: anything up to whitespace, a quote, or a delimiter of the text around it
    /// (`&` in a query string, `,` `;` `)` `}` `]` in code and logs).
    @inline(__always) private static func isBareValueByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "&")
            && byte != UInt8(ascii: ",") && byte != UInt8(ascii: ";") && byte != UInt8(ascii: ")")
            && byte != UInt8(ascii: "}") && byte != UInt8(ascii: "]") && byte != UInt8(ascii: "(") && byte != 0x7F
    }

    @inline(__always) static func isTokenByte(_ byte: UInt8) -> Bool {
        Byte.isAlnum(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
    }
}
