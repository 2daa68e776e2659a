import Platform

/// A `pattern` compiled once when the persona loads, with the C library's POSIX extended regular expressions.
///
/// The dialect is POSIX ERE (`regcomp` with `REG_EXTENDED | REG_NOSUB`), not ECMA-262 as JSON Schema says: no
/// `\d`, `\w`, lazy quantifiers or look-around; use `[0-9]`, `[[:alnum:]_]` and anchors `^`/`$`. Like JSON
/// Schema, a pattern is unanchored: `abc` matches anywhere. Matching runs on the UTF-8 bytes under the C locale,
/// so `.` matches one byte and a bracket expression lists bytes; write non-ASCII text literally. A value
/// containing a NUL character never matches (C strings end there), so it cannot smuggle text past an anchor.
///
/// A class because the compiled form must be freed exactly once; it is immutable after `init` and `regexec` on
/// a compiled expression is thread-safe, hence `@unchecked Sendable`.
public final class PosixRegex: @unchecked Sendable, CustomStringConvertible {
    public let pattern: String
    private var compiled = regex_t()
    /// The literal text an anchored pattern (`^hello...`) starts with: text that does not start with it cannot
    /// match. Empty when the pattern has no such prefix, or has an alternation (`|`) anywhere.
    private let literalPrefix: [UInt8]
    /// Whether the pattern is nothing but `^` and `literalPrefix`: then the prefix alone decides.
    private let isLiteralPrefix: Bool

    public struct CompileError: Error, CustomStringConvertible {
        public let pattern: String
        public let message: String
        public var description: String {
            "invalid pattern \"\(pattern)\": \(message) (patterns are POSIX extended regular expressions)"
        }
    }

    /// `reportsPositions` keeps what `firstMatch` needs (where a match is); without it matching is cheaper.
    public init(_ pattern: String, reportsPositions: Bool = false) throws(CompileError) {
        self.pattern = pattern
        guard !pattern.utf8.contains(0) else {
            throw CompileError(pattern: pattern, message: "it contains a NUL character")
        }
        // glibc accepts back-references in extended expressions, and matching them can take exponential time on
        // an agent's crafted argument; without them matching stays fast.
        var escaped = false
        for byte in pattern.utf8 {
            if escaped && byte &- UInt8(ascii: "1") < 9 {
                throw CompileError(pattern: pattern, message: "back-references such as \\1 are not supported")
            }
            escaped = !escaped && byte == UInt8(ascii: "\\")
        }
        (literalPrefix, isLiteralPrefix) = Self.literalPrefix(of: pattern)
        let status = regcomp(&compiled, pattern, REG_EXTENDED | (reportsPositions ? 0 : REG_NOSUB))
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(status, &compiled, &buffer, buffer.count)
            let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CompileError(pattern: pattern, message: message)
        }
    }

    deinit { regfree(&compiled) }

    public var description: String { pattern }

    /// Whether the pattern matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        guard !text.utf8.contains(0) else { return false }
        return regexec(&compiled, text, 0, nil, 0) == 0
    }

    /// `matches` on a string's UTF-8 bytes (valid UTF-8, as a request's unescaped string holds them), without
    /// building a `String`.
    func matches(utf8 text: UnsafeRawBufferPointer) -> Bool {
        if !literalPrefix.isEmpty {
            guard text.count >= literalPrefix.count,
                literalPrefix.withUnsafeBytes({ memcmp($0.baseAddress!, text.baseAddress!, $0.count) == 0 })
            else { return false }
            if isLiteralPrefix { return !Self.containsNUL(text) }
        }
        guard !Self.containsNUL(text) else { return false }
        // A NUL-terminated copy on the stack (the heap only for a long argument).
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            let base = buffer.baseAddress!
            if let source = text.baseAddress { memcpy(base, source, text.count) }
            base[text.count] = 0
            return regexec(&compiled, base, 0, nil, 0) == 0
        }
    }

    /// The first match in `text` at or after `start` (byte offsets), for a pattern compiled with
    /// `reportsPositions`. `text` needs no terminating NUL and may contain NULs (glibc's `REG_STARTEND`); `^` matches
    /// only at offset 0.
    func firstMatch(in text: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
        guard let base = text.baseAddress, start <= text.count else { return nil }
        var match = regmatch_t()
        match.rm_so = regoff_t(start)
        match.rm_eo = regoff_t(text.count)
        let flags = REG_STARTEND | (start > 0 ? REG_NOTBOL : 0)
        guard regexec(&compiled, base.assumingMemoryBound(to: CChar.self), 1, &match, flags) == 0 else { return nil }
        return Int(match.rm_so)..<Int(match.rm_eo)
    }

    private static func containsNUL(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress else { return false }
        return memchr(base, 0, text.count) != nil
    }

    /// The literal bytes after a leading `^` up to the first special character, and whether they are the whole
    /// rest of the pattern. A quantifier after the literal takes its last character back; a `|` anywhere (an
    /// alternative need not start with the prefix) or text that is not ASCII gives no prefix.
    static func literalPrefix(of pattern: String) -> ([UInt8], Bool) {
        let bytes = Array(pattern.utf8)
        guard bytes.first == UInt8(ascii: "^"), !bytes.contains(UInt8(ascii: "|")) else { return ([], false) }
        let special = Array(".[]()*+?{}|^$\\".utf8)
        var literal: [UInt8] = []
        for byte in bytes.dropFirst() {
            guard byte >= 0x20, byte < 0x7F, !special.contains(byte) else { break }
            literal.append(byte)
        }
        if literal.count == bytes.count - 1 { return (literal, !literal.isEmpty) }
        let next = bytes[literal.count + 1]
        if next == UInt8(ascii: "*") || next == UInt8(ascii: "+") || next == UInt8(ascii: "?")
            || next == UInt8(ascii: "{")
        {
            literal.removeLast(min(1, literal.count))
        }
        return (literal, false)
    }
}
