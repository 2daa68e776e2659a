import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// JSON text is UTF-8: what is not, from either side, is never passed on.
    @Suite struct WireHardening {
        static func call(id: Int, query: [UInt8]) -> [UInt8] {
            Array(
                #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"fx__echo","arguments":{"q":""#
                    .utf8)
                + query + Array(#""}}}"#.utf8)
        }

        @Test(
            arguments: [
                [0xFF], [0xFE], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
                Array(#"\ud800"#.utf8), Array(#"\udc00x"#.utf8),
            ] as [[UInt8]])
        func invalidUTF8FromTheAgentIsAParseErrorAndNeverForwarded(_ payload: [UInt8]) throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            try shim.client.send(Self.call(id: 1, query: payload))
            let line = try #require(shim.client.readLine(timeout: 10))
            let reply = try JSONValue(parsing: line)
            #expect(reply["error"]?["code"] == -32700)
            #expect(reply["error"]?["message"]?.stringValue?.contains("UTF-8") == true || payload.first == 0x5C)
            // The shim still serves, and the server never saw the refused line.
            let echo = try #require(shim.call("fx__echo", ["ok": "é"], id: 2))
            #expect(echo["result"]?["content"]?[0]?["text"]?.stringValue == #"{"ok":"é"}"#)
            let calls = shim.auditRecords().filter { $0["event"] == "call.decision" }
            #expect(calls.count == 1)
        }

        @Test func invalidUTF8FromAServerIsDroppedAndLogged() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--hostile-tools"]))], allow: ["fx__bad_utf8"])
            try shim.initialize()
            try shim.client.send(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__bad_utf8"}}"#)
            var lines: [[UInt8]] = []
            while let line = shim.client.readLine(timeout: 10) {
                lines.append(line)
                if (try? JSONValue(parsing: line))?["id"] == 1 { break }
            }
            #expect(!lines.contains { $0.contains(0xFF) })
            let messages = lines.compactMap { try? JSONValue(parsing: $0) }
            #expect(messages.count == lines.count, "every line the agent got is valid JSON")
            #expect(messages.contains { $0["params"]?["data"] == "after" })
            #expect(messages.last?["result"] != nil)
            #expect(eventually(timeout: 5) { shim.client.standardError.contains("invalid UTF-8") })
        }

        /// Two calls that differ only in a character get different digests: the audit says what the server got.
        @Test func argsDigestTellsCharactersApart() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            #expect(shim.call("fx__echo", ["q": "ÿ"], id: 1)?["result"] != nil)
            #expect(shim.call("fx__echo", ["q": "þ"], id: 2)?["result"] != nil)
            let digests = shim.auditRecords().filter { $0["event"] == "call.decision" }.compactMap {
                $0["argsDigest"]?.stringValue
            }
            #expect(digests.count == 2)
            #expect(Set(digests).count == 2)
        }
    }
}
