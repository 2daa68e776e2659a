/// E-mail addresses: `local@domain.tld`, found from the `@`.
///
/// The local part is letters, digits and `.`_%+-` (not starting or ending with a dot); the domain is two or more
/// labels of letters, digits and `-`, the last (the top-level domain) 2–24 letters. So `@Test`, `x@y`,
/// `user@localhost` and `pkg@1.2.3` are not addresses. Two code shapes that look like addresses are left alone: a
/// git remote (`git@github.com:org/repo`, the domain followed by `:` and a path) and a file name with a retina
/// suffix (`icon@2x.png`, a last label that is a common file extension and no top-level domain); and a URL's
/// user information (`ssh://git@host`, `postgres://app:password@host`, where the password is a `credential`).
extension BuiltInScanner {
    mutating func scanEmail(at index: Int) -> Int {
        var start = index
        while start > 0 && Self.isLocal(text[start - 1]) { start -= 1 }
        while start < index && text[start] == UInt8(ascii: ".") { start += 1 }
        guard start < index, text[index - 1] != UInt8(ascii: ".") else { return index + 1 }
        if let hasPassword = urlUserInfo(before: start) {
            // `scheme://user:password@host`: a URL's credentials, not an address.
            if enabled.contains(.credential) && hasPassword { found(.credential, start..<index) }
            return index + 1
        }
        guard enabled.contains(.email) else { return index + 1 }

        var end = index + 1
        var labels = 0
        var lastLabel = end..<end
        while Byte.isAlnum(text[end]) {
            let labelStart = end
            end = text.runEnd(from: end) { Byte.isAlnum($0) || $0 == UInt8(ascii: "-") }
            while text[end - 1] == UInt8(ascii: "-") { end -= 1 }
            labels += 1
            lastLabel = labelStart..<end
            guard text[end] == UInt8(ascii: "."), Byte.isAlnum(text[end + 1]) else { break }
            end += 1
        }
        guard labels >= 2, (2...24).contains(lastLabel.count),
            lastLabel.allSatisfy({ Byte.isLetter(text[$0]) }), !isFileExtension(lastLabel)
        else { return index + 1 }
        // A git remote: `host:path` right after the domain.
        if text[end] == UInt8(ascii: ":") && (Byte.isWord(text[end + 1]) || text[end + 1] == UInt8(ascii: "/")) {
            return end
        }
        guard !Byte.isWord(text[end]), text[end] != UInt8(ascii: "@") else { return end }
        found(.email, start..<end)
        return end
    }

    /// Whether the text before an address-like local part is a URL's authority: nil when not, false for `//` right
    /// before it (`ssh://git@host`), true for `//user:` (then the local part is a password).
    private func urlUserInfo(before start: Int) -> Bool? {
        if text[start - 1] == UInt8(ascii: "/") && text[start - 2] == UInt8(ascii: "/") { return false }
        guard text[start - 1] == UInt8(ascii: ":") else { return nil }
        var userStart = start - 1
        while userStart > 0 && start - userStart < 256 && Self.isLocal(text[userStart - 1]) { userStart -= 1 }
        guard text[userStart - 1] == UInt8(ascii: "/") && text[userStart - 2] == UInt8(ascii: "/") else { return nil }
        return true
    }

    @inline(__always) private static func isLocal(_ byte: UInt8) -> Bool {
        Byte.isAlnum(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "%")
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
    }

    private static let fileExtensions: [StaticString] = [
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "css", "scss", "json", "txt", "yml", "yaml",
        "toml", "lock", "html", "htm", "pdf", "gz", "tar", "swift", "kt", "cpp", "java",
    ]

    /// File extensions that are not top-level domains (`.zip`, `.md`, `.rs` are, so they stay addresses).
    private func isFileExtension(_ label: Range<Int>) -> Bool {
        return Self.fileExtensions.contains {
            $0.utf8CodeUnitCount == label.count && text.hasIgnoringCase($0, at: label.lowerBound)
        }
    }
}
