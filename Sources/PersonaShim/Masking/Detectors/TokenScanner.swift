/// Provider keys and tokens recognised by their published prefixes, each followed by an exact or bounded run of
/// the provider's characters, with no letter, digit or `_` touching either end.
extension BuiltInScanner {
    /// AWS access key ids: `AKIA`, `ASIA`, `ABIA` or `ACCA` and 16 capitals or digits, 20 characters in all.
    mutating func scanAWSAccessKey(at index: Int) -> Int {
        guard
            text.has("AKIA", at: index) || text.has("ASIA", at: index) || text.has("ABIA", at: index)
                || text.has("ACCA", at: index), startsWord(index)
        else { return index + 1 }
        let end = text.runEnd(from: index + 4, while: Byte.isUpperAlnum)
        if end - index == 20 && endsWord(end) { found(.awsAccessKey, index..<end) }
        return end
    }

    /// From a `_`: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 letters or digits; `github_pat_` and
    /// 22 letters or digits, `_`, 59 letters or digits) and Stripe secret and restricted keys (`sk_live_`,
    /// `sk_test_`, `rk_live_`, `rk_test_` and at least 16 letters or digits).
    mutating func scanUnderscore(at index: Int) -> Int {
        if enabled.contains(.githubToken) {
            if text.has("gh", at: index - 3), Self.isOneOf(text[index - 1], "pousr"), startsWord(index - 3) {
                let end = text.runEnd(from: index + 1, while: Byte.isAlnum)
                if end - index - 1 == 36 && endsWord(end) { found(.githubToken, index - 3..<end) }
                return end
            }
            if text.has("github_pat_", at: index - 6), startsWord(index - 6) {
                let first = text.runEnd(from: index + 5, while: Byte.isAlnum)
                guard first - index - 5 == 22, text[first] == UInt8(ascii: "_") else { return index + 5 }
                let end = text.runEnd(from: first + 1, while: Byte.isAlnum)
                if end - first - 1 == 59 && endsWord(end) { found(.githubToken, index - 6..<end) }
                return end
            }
        }
        if enabled.contains(.stripeKey), text.has("sk", at: index - 2) || text.has("rk", at: index - 2),
            startsWord(index - 2), text.has("live_", at: index + 1) || text.has("test_", at: index + 1)
        {
            let end = text.runEnd(from: index + 6, while: Byte.isAlnum)
            if end - index - 6 >= 16 && endsWord(end) { found(.stripeKey, index - 2..<end) }
            return end
        }
        return index + 1
    }

    /// From a `-`: GitLab (`glpat-`, `gldt-`, `glrt-` and 20–255 of `A-Za-z0-9_-`), Slack (`xoxb-`, `xoxp-`,
    /// `xoxa-`, `xoxr-`, `xoxs-` and 20–255 of `A-Za-z0-9-` with at least one more `-`), OpenAI-style (`sk-`,
    /// including `sk-proj-` and `sk-svcacct-`, and 32–255 of `A-Za-z0-9_-` with both letters and digits), and
    /// private key blocks.
    mutating func scanDash(at index: Int) -> Int {
        if enabled.contains(.privateKey) && text.has("-----BEGIN ", at: index) && text[index - 1] != UInt8(ascii: "-") {
            return scanPrivateKey(at: index)
        }
        if enabled.contains(.gitlabToken) {
            for prefix in Self.gitlabPrefixes {
                let start = index - prefix.utf8CodeUnitCount
                guard text.has(prefix, at: start), startsWord(start) else { continue }
                let end = trimmedEnd(text.runEnd(from: index + 1, while: Byte.isBase64URL), after: index)
                if (20...255).contains(end - index - 1) && endsWord(end) { found(.gitlabToken, start..<end) }
                return end
            }
        }
        if enabled.contains(.slackToken), text.has("xox", at: index - 4), Self.isOneOf(text[index - 1], "baprs"),
            startsWord(index - 4)
        {
            let end = trimmedEnd(
                text.runEnd(from: index + 1) { Byte.isAlnum($0) || $0 == UInt8(ascii: "-") }, after: index)
            let body = index + 1..<end
            if (20...255).contains(body.count) && body.contains(where: { text[$0] == UInt8(ascii: "-") })
                && endsWord(end)
            {
                found(.slackToken, index - 4..<end)
            }
            return end
        }
        if enabled.contains(.openAIKey), text.has("sk", at: index - 2), startsWord(index - 2) {
            let end = trimmedEnd(text.runEnd(from: index + 1, while: Byte.isBase64URL), after: index)
            let body = index + 1..<end
            if (32...255).contains(body.count) && body.contains(where: { Byte.isDigit(text[$0]) })
                && body.contains(where: { Byte.isLetter(text[$0]) }) && endsWord(end)
            {
                found(.openAIKey, index - 2..<end)
            }
            return end
        }
        return index + 1
    }

    private static let gitlabPrefixes: [StaticString] = ["glpat", "gldt", "glrt"]

    /// A token does not end in `-` (a dash after it belongs to the sentence).
    private func trimmedEnd(_ end: Int, after start: Int) -> Int {
        var end = end
        while end > start + 1 && text[end - 1] == UInt8(ascii: "-") { end -= 1 }
        return end
    }

    @inline(__always) static func isOneOf(_ byte: UInt8, _ set: StaticString) -> Bool {
        let bytes = set.utf8Start
        for offset in 0..<set.utf8CodeUnitCount where bytes[offset] == byte { return true }
        return false
    }
}
