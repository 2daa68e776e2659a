/// Allow patterns that give the agent nothing: the easiest mistakes in a persona (a tool name without its server
/// prefix, a server named differently than the persona assumes) leave the agent without tools and without a word.
public enum UnmatchedPatterns {
    /// The allow patterns that matched none of `exposedNames` (the tools the servers offer, as the agent would
    /// see them), in the persona's order.
    public static func find(allow: [Glob], exposedNames: [String]) -> [Glob] {
        allow.filter { pattern in !exposedNames.contains { pattern.matches($0) } }
    }

    /// Why `pattern` can never match a tool of these servers, or nil when it might. Judged from the pattern alone,
    /// before any server runs: exposed names are always `<server>__<tool>`.
    public static func reasonNeverMatches(_ pattern: Glob, servers: [String]) -> String? {
        let text = Array(pattern.pattern)
        if !text.contains("*") {
            let hasSeparator = text.indices.dropLast().contains { index in
                (text[index] == "_" || text[index] == "?") && (text[index + 1] == "_" || text[index + 1] == "?")
            }
            if !hasSeparator {
                let example = servers.first.map { " (e.g. \"\(ToolNaming.sanitize($0))__\(pattern.pattern)\")" } ?? ""
                return
                    "pattern \"\(pattern.pattern)\" has no \"__\": the agent sees tools as <server>__<tool>, so it can never match; add the server's name\(example)"
            }
        }
        guard !servers.isEmpty else { return nil }
        let names = servers.map(ToolNaming.sanitize)
        // Every place a `__` could separate server and tool: one of them must leave a prefix some server matches.
        var prefixes: [String] = []
        var index = 0
        while index + 1 < text.count {
            if text[index] == "_" && text[index + 1] == "_" { prefixes.append(String(text[..<index])) }
            index += 1
        }
        guard !prefixes.isEmpty, !prefixes.contains(where: { $0.contains("*") || $0.contains("?") }) else {
            return nil
        }
        if prefixes.contains(where: { prefix in names.contains(prefix) }) { return nil }
        let known = names.map { "\"\($0)\"" }.joined(separator: ", ")
        return
            "pattern \"\(pattern.pattern)\" names server \"\(prefixes[0])\", which this persona does not have (its servers: \(known)), so it can never match"
    }
}
