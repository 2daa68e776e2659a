/// A name pattern: `*` matches any run of characters (also none), `?` exactly one; everything else itself.
///
/// Matching is case-sensitive, like the names it guards: `billing__Refund` is another tool than `billing__refund`.
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let bytes: [UInt8]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    public var description: String { pattern }

    /// Whether the whole of `name` matches.
    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches(bytes: $0) }
    }

    private func matches(bytes text: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < text.count {
            if p < bytes.count && (bytes[p] == UInt8(ascii: "?") || bytes[p] == text[t]) {
                if bytes[p] == UInt8(ascii: "?") {
                    // `?` is one character, not one byte.
                    t += Self.scalarLength(text[t])
                } else {
                    t += 1
                }
                p += 1
            } else if p < bytes.count && bytes[p] == UInt8(ascii: "*") {
                starP = p
                starT = t
                p += 1
            } else if starP >= 0 {
                p = starP + 1
                starT += Self.scalarLength(text[starT])
                t = starT
            } else {
                return false
            }
        }
        while p < bytes.count && bytes[p] == UInt8(ascii: "*") { p += 1 }
        return p == bytes.count
    }

    private static func scalarLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }
}
