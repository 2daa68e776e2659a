/// A place in a tool call's arguments: a JSON Pointer (RFC 6901) such as `/options/path` or `/files/0`, or an
/// argument's plain name (`path` means `/path`, so a name containing `/` or `~` is still one argument).
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
    public let tokens: [String]
    /// As the persona wrote it, for sentences.
    public let text: String

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case badEscape(String)

        public var description: String {
            switch self {
            case .badEscape(let text):
                "\"\(text)\" is not a valid JSON Pointer: \"~\" must be followed by 0 (for \"~\") or 1 (for \"/\")"
            }
        }
    }

    /// Reads a pointer (text starting with `/`), the whole value (empty text), or an argument name.
    public init(_ text: String) throws(ParseError) {
        self.text = text
        if text.isEmpty {
            tokens = []
        } else if !text.hasPrefix("/") {
            tokens = [text]
        } else {
            var tokens: [String] = []
            for raw in text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
                guard let token = Self.unescape(raw) else { throw .badEscape(text) }
                tokens.append(token)
            }
            self.tokens = tokens
        }
    }

    private static func unescape(_ raw: Substring.UTF8View.SubSequence) -> String? {
        guard raw.contains(UInt8(ascii: "~")) else { return String(decoding: raw, as: UTF8.self) }
        var bytes: [UInt8] = []
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "~") else {
                bytes.append(byte)
                continue
            }
            switch iterator.next() {
            case UInt8(ascii: "0"): bytes.append(UInt8(ascii: "~"))
            case UInt8(ascii: "1"): bytes.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { text }

    /// The argument the pointer names, or nil when it is missing (an absent member, an index out of range or
    /// not written as a plain decimal, or a step into a value that is neither an object nor an array).
    public func resolve(in value: JSONValue) -> JSONValue? {
        var current = value
        for token in tokens {
            switch current {
            case .object(let object):
                guard let member = object[token] else { return nil }
                current = member
            case .array(let elements):
                guard let index = Self.arrayIndex(token), index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// RFC 6901 indexes: `0`, or digits without a leading zero. `-` (past the end) never names an element.
    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard let first = utf8.first, first &- UInt8(ascii: "0") < 10, utf8.count <= 18 else { return nil }
        if first == UInt8(ascii: "0") && utf8.count > 1 { return nil }
        var index = 0
        for byte in utf8 {
            guard byte &- UInt8(ascii: "0") < 10 else { return nil }
            index = index * 10 + Int(byte &- UInt8(ascii: "0"))
        }
        return index
    }
}
