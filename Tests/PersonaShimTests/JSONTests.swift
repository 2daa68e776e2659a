import Testing

@testable import PersonaShim

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct JSONTests {
    @Test(arguments: ["1.0", "1e400", "12345678901234567890", "-0.0", "2E+3", "0", "-12.5e-7"])
    func numbersKeepTheirLiteral(_ literal: String) throws {
        let value = try JSONValue(parsing: "[\(literal)]")
        #expect(value == .array([.number(literal)]))
        #expect(JSONWriter.string(value) == "[\(literal)]")
    }

    @Test func objectsKeepKeyOrder() throws {
        let text = #"{"z":1,"a":{"y":[true,false,null],"x":"s"}}"#
        let value = try JSONValue(parsing: text)
        #expect(value.objectValue?.keys == ["z", "a"])
        #expect(JSONWriter.string(value) == text)
    }

    @Test func canonicalFormSortsKeys() throws {
        let value = try JSONValue(parsing: #"{"b":1,"a":{"d":2.50,"c":[3,{"f":1,"e":2}]}}"#)
        #expect(JSONWriter.string(value, canonical: true) == #"{"a":{"c":[3,{"e":2,"f":1}],"d":2.50},"b":1}"#)
    }

    @Test func stringEscapesRoundTrip() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\/d\n\t\u00e9\ud83d\ude00\u0001""#)
        #expect(value.stringValue == "a\"b\\c/d\n\té😀\u{01}")
        #expect(JSONWriter.string(value) == #""a\"b\\c/d\n\té😀\u0001""#)
    }

    @Test(arguments: [
        "", "{", "[1,]", #"{"a" 1}"#, "01", "1.", "-", "tru", #""\x""#, "\"a\nb\"", "[1] 2", #"{"a":1,}"#,
        #""\u12""#, "nul",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: text) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: deep) }
    }

    @Test func locationsPointAtValuesAndKeys() throws {
        let text = "{\n  \"tools\": {\n    \"allow\": [\"a\", 2]\n  }\n}"
        let (_, locations) = try JSONValue.parseWithLocations(Array(text.utf8))
        let table = LineTable(Array(text.utf8))
        let element = try #require(locations.offsets["/tools/allow/1"])
        #expect(table.position(of: element) == (3, 20))
        let key = try #require(locations.keyOffsets["/tools/allow"])
        #expect(table.position(of: key) == (3, 5))
    }
}

@Suite struct MessageEnvelopeTests {
    func scan(_ text: String) throws(EnvelopeError) -> (MessageEnvelope, [UInt8]) {
        let bytes = Array(text.utf8)
        let envelope = try withBytes(bytes) { (raw) throws(EnvelopeError) in
            try MessageEnvelope.scan(raw, range: 0..<bytes.count)
        }
        return (envelope, bytes)
    }

    @Test func classifiesARequestAndKeepsTheRawId() throws {
        let (envelope, bytes) = try scan(#"{"jsonrpc":"2.0","id":"1","method":"tools/call","params":{"name":"x"}}"#)
        #expect(envelope.kind == .request)
        #expect(envelope.method == "tools/call")
        #expect(String(decoding: bytes[envelope.id!], as: UTF8.self) == #""1""#)
        #expect(String(decoding: bytes[envelope.params!], as: UTF8.self) == #"{"name":"x"}"#)
        #expect(envelope.hasVersion)
    }

    @Test(arguments: [
        (#"{"content":[{"type":"text","text":"a \"resource\" and a resource_link"}]}"#, false),
        (#"{"content":[{"type":"resource_link","uri":"memo://x","name":"x"}]}"#, true),
        (
            #"{"content":[{"type":"text","text":"t"},{"type":"resource","resource":{"uri":"memo://x","text":"y"}}]}"#,
            true
        ),
        (#"{"structuredContent":{"type":"resource"},"content":[]}"#, false),
        (#"{"messages":[{"role":"user","content":{"type":"resource","resource":{"uri":"memo://x"}}}]}"#, true),
        (#"{"messages":[{"role":"user","content":{"type":"text","text":"resource"}}]}"#, false),
        (#"{"contents":[{"uri":"memo://x","text":"y"}]}"#, false),
    ])
    func findsResourceContentInResultsWithoutLookingIntoText(_ result: String, _ expected: Bool) throws {
        let (envelope, _) = try scan(#"{"jsonrpc":"2.0","id":1,"result":"# + result + "}")
        #expect(envelope.resultHasResourceContent == expected)
        #expect(throws: EnvelopeError.self) {
            try scan(#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text",}]}}"#)
        }
    }

    @Test func classifiesNotificationsAndResponses() throws {
        #expect(try scan(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).0.kind == .notification)
        let (response, bytes) = try scan(#"{"id":12345678901234567890,"jsonrpc":"2.0","result":{}}"#)
        #expect(response.kind == .response)
        #expect(String(decoding: bytes[response.id!], as: UTF8.self) == "12345678901234567890")
    }

    @Test func escapedKeysAreRecognised() throws {
        let (envelope, _) = try scan(#"{"jsonrpc":"2.0","\u0069d":7,"method":"ping"}"#)
        #expect(envelope.kind == .request)
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":1,"method":"x""#, -32700),
        ("[1,2]", -32600),
        (#"{"jsonrpc":"2.0","id":{},"method":"x"}"#, -32600),
        (#"{"jsonrpc":"2.0","id":1,"method":5}"#, -32600),
        (#"{"jsonrpc":"2.0","id":1}"#, -32600),
        ("not json", -32700),
    ])
    func reportsTheRightErrorCode(_ text: String, _ code: Int) {
        do {
            _ = try scan(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func splicingReplacesOnlyTheGivenRanges() throws {
        let text = #"{"jsonrpc":"2.0","id":"abc","result":{"n":1e400}}"#
        let (envelope, bytes) = try scan(text)
        let output = OutputBuffer()
        bytes.withUnsafeBytes { raw in
            output.appendLine(raw, range: 0..<bytes.count, replacing: [(envelope.id!, Array("42".utf8))])
        }
        let (read, write) = try pipe()
        defer { FD.close(read) }
        #expect(try output.flush(to: write))
        FD.close(write)
        var received = [UInt8](repeating: 0, count: 256)
        let count = try received.withUnsafeMutableBytes { try FD.read(read, into: $0) } ?? 0
        #expect(
            String(decoding: received[..<count], as: UTF8.self) == #"{"jsonrpc":"2.0","id":42,"result":{"n":1e400}}"#
                + "\n")
    }

    private func pipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(Glibc.pipe(&fds) == 0)
        return (fds[0], fds[1])
    }
}
