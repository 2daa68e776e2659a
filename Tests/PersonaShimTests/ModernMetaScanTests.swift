import Testing

@testable import PersonaShim

/// A stateless revision's `_meta` is read in the envelope scan, once, and reads exactly as a walk of `_meta` by
/// `MessageEnvelope.members` would.
@Suite struct ModernMetaScanTests {
    static let meta =
        #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}},"io.modelcontextprotocol/clientInfo":{"name":"a","version":"1"},"io.modelcontextprotocol/logLevel":"info","progressToken":7}"#

    func scan(_ text: String) throws -> (MessageEnvelope, [UInt8]) {
        let bytes = Array(text.utf8)
        let envelope = try withBytes(bytes) { (raw) throws(EnvelopeError) in
            try MessageEnvelope.scan(raw, range: 0..<bytes.count)
        }
        return (envelope, bytes)
    }

    func request(params: String) -> String { #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":\#(params)}"# }

    func text(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
        range.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func theReservedKeysAreFoundInTheScan() throws {
        let (envelope, bytes) = try scan(request(params: #"{"name":"x","requestState":"s1","_meta":\#(Self.meta)}"#))
        let found = try #require(bytes.withUnsafeBytes { envelope.modernMetaMembers($0) })
        #expect(
            found.map { text(bytes, $0) } == [#""2026-07-28""#, #"{"elicitation":{}}"#, #"{"name":"a","version":"1"}"#])
        #expect(text(bytes, bytes.withUnsafeBytes { envelope.metaLogLevel($0) }) == #""info""#)
        #expect(text(bytes, envelope.requestParams.progressToken) == "7")
        #expect(!envelope.requestParams.metaHasOtherKeys, "reserved keys and a progress token only")
        // The same answers as walking _meta for each key.
        let walked = bytes.withUnsafeBytes {
            MessageEnvelope.members(
                $0, object: envelope.requestParams.meta!,
                named: [MCPProtocol.protocolVersionKey, MCPProtocol.clientCapabilitiesKey, MCPProtocol.clientInfoKey])
        }
        #expect(walked == found)
    }

    @Test func anEscapedKeyIsReadAsItsText() throws {
        let meta = #"{"io.modelcontextprotocol\/protocolVersion":"2026-07-28","io.modelcontextprotocol/unknown":1}"#
        let (envelope, bytes) = try scan(request(params: #"{"_meta":\#(meta)}"#))
        let found = try #require(bytes.withUnsafeBytes { envelope.modernMetaMembers($0) })
        #expect(text(bytes, found[0]) == #""2026-07-28""#)
        #expect(found[1] == nil && found[2] == nil)
        #expect(!envelope.requestParams.metaHasOtherKeys, "an unknown reserved key is still reserved")
    }

    @Test func aKeyOfItsOwnIsNoticed() throws {
        let (envelope, _) = try scan(request(params: #"{"_meta":{"progressToken":1,"trace\u0049d":"t"}}"#))
        #expect(envelope.requestParams.metaHasOtherKeys)
        let (plain, _) = try scan(request(params: #"{"_meta":{"io.modelcontextprotocol/logLevel":"debug"}}"#))
        #expect(!plain.requestParams.metaHasOtherKeys)
    }

    @Test func aRepeatedKeyReadsAsAbsentAsTheWalkReadsIt() throws {
        let meta =
            #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/protocolVersion":"2025-11-25","io.modelcontextprotocol/clientCapabilities":{}}"#
        let (envelope, bytes) = try scan(request(params: #"{"requestState":"a","requestState":"b","_meta":\#(meta)}"#))
        #expect(envelope.requestParams.duplicate != nil)
        let found = try #require(bytes.withUnsafeBytes { envelope.modernMetaMembers($0) })
        #expect(found[0] == nil, "which of the two counts is not guessed")
        #expect(text(bytes, found[1]) == "{}")
    }

    @Test func withoutMetaThereIsNothingToRead() throws {
        let (envelope, bytes) = try scan(request(params: #"{"name":"x"}"#))
        #expect(bytes.withUnsafeBytes { envelope.modernMetaMembers($0) } == nil)
        #expect(bytes.withUnsafeBytes { envelope.metaLogLevel($0) } == nil)
    }
}
