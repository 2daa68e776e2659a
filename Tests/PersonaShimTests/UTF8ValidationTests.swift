import Testing

@testable import PersonaShim

/// JSON text is UTF-8 (RFC 8259): bytes that decode to nothing, and escapes that encode no character, are refused
/// wherever the shim validates a message.
@Suite struct UTF8ValidationTests {
    /// A request whose one string argument holds `payload` as raw bytes.
    static func request(_ payload: [UInt8]) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"q":""#.utf8)
            + payload + Array(#""}}}"#.utf8)
    }

    func scan(_ bytes: [UInt8]) throws(EnvelopeError) -> MessageEnvelope {
        try withBytes(bytes) { (raw) throws(EnvelopeError) in try MessageEnvelope.scan(raw, range: 0..<bytes.count) }
    }

    static let invalid: [[UInt8]] = [
        [0xFF], [0xFE], [0x80], [0xBF],  // never valid, or a continuation byte without a lead
        [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF],  // overlong
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // encoded surrogates U+D800, U+DFFF
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],  // above U+10FFFF
        [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98],  // truncated by the closing quote
        [0xC3, 0x41], [0xE2, 0x28, 0xA1], [0xF0, 0x9F, 0x28, 0x80],  // a continuation byte missing
        Array("abcdefgh".utf8) + [0xFF] + Array("ijklmnop".utf8),  // found by the 8-byte stride
    ]

    @Test(arguments: invalid)
    func invalidUTF8IsAParseError(_ payload: [UInt8]) {
        #expect(throws: EnvelopeError.self) { try scan(Self.request(payload)) }
        do {
            _ = try scan(Self.request(payload))
        } catch {
            #expect(error.code == -32700)
            #expect(error.message.contains("invalid UTF-8"))
        }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Self.request(payload)) }
    }

    @Test func invalidUTF8InAKeyIsRefusedToo() {
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"x","params":{""#.utf8) + [0xFF] + Array(#"":1}}"#.utf8)
        #expect(throws: EnvelopeError.self) { try scan(line) }
    }

    static let valid: [String] = [
        "é", "€", "😀", "\u{7F}", "\u{80}", "\u{7FF}", "\u{800}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}", "\u{D7FF}",
        "\u{E000}", "héllo wörld, ünïcödé — 日本語のテキスト 😀😀", String(repeating: "ü", count: 100),
    ]

    @Test(arguments: valid)
    func validUTF8IsAccepted(_ text: String) throws {
        let envelope = try scan(Self.request(Array(text.utf8)))
        #expect(envelope.kind == .request)
        let value = try JSONValue(parsing: Self.request(Array(text.utf8)))
        #expect(value["params"]?["arguments"]?["q"]?.stringValue == text)
    }

    @Test(arguments: [
        #"\ud800"#, #"\uDBFF"#, #"\udc00"#, #"\uDFFF"#, #"\ud800x"#, #"\ud800\u0041"#, #"\ud800\ud800"#,
        #"\udc00\ud800"#, #"\ud800\"#, #"\ud800\u"#, #"a\ud83d"#,
    ])
    func loneSurrogateEscapesAreAParseError(_ escape: String) {
        #expect(throws: EnvelopeError.self) { try scan(Self.request(Array(escape.utf8))) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Self.request(Array(escape.utf8))) }
    }

    @Test(arguments: [#"\ud83d\ude00"#, #"\uD800\uDC00"#, #"\uDBFF\uDFFF"#, #"\u00e9\ud7ff\ue000"#])
    func surrogatePairsAreAccepted(_ escape: String) throws {
        #expect(try scan(Self.request(Array(escape.utf8))).kind == .request)
    }

    /// Once invalid bytes are refused, the digest of what is forwarded tells every accepted argument apart.
    @Test func digestsOfDifferentCharactersDiffer() throws {
        func digest(_ text: String) throws -> SHA256.Digest {
            let bytes = Array(#"{"q":""#.utf8) + Array(text.utf8) + Array(#""}"#.utf8)
            return try withBytes(bytes) { (raw) throws(JSONSyntaxError) in
                try CanonicalJSON.digest(raw, 0..<bytes.count)
            }
        }
        #expect(try digest("ÿ") != digest("þ"))
        #expect(try digest("\u{FFFD}") != digest("ÿ"))
        #expect(try digest("é") == digest("é"))
    }
}
