// What the example servers and the fixture answer beyond MCPWire's protocol constants.

import MCPWire

/// The `initialize` answer these servers give.
package enum ExampleProtocol {
    /// The `result` of an `initialize` response, in the revision MCPWire negotiates for `requestedVersion`.
    package static func initializeResult(
        requestedVersion: String?, serverName: String, serverVersion: String, instructions: String? = nil
    ) -> JSONValue {
        var result: JSONValue = [
            "protocolVersion": .string(MCPProtocol.negotiate(requestedVersion)),
            "capabilities": ["tools": [:]],
            "serverInfo": ["name": .string(serverName), "version": .string(serverVersion)],
        ]
        if let instructions { result = result.setting("instructions", to: .string(instructions)) }
        return result
    }
}

/// Opaque pagination cursors: base64 of a small JSON object, in the style of the spec's examples.
package enum ExamplePageCursor {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The cursor that asks for the page starting at `offset`.
    package static func encode(offset: Int) -> String {
        base64(Array("{\"offset\":\(offset)}".utf8))
    }

    /// Maps a cursor back to its offset, given every cursor that was handed out (`offsets`).
    package static func decode(_ cursor: String, validOffsets offsets: some Sequence<Int>) -> Int? {
        offsets.first { encode(offset: $0) == cursor }
    }

    private static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for (position, byte) in chunk.enumerated() { value |= Int(byte) << (16 - 8 * position) }
            for position in 0..<4 {
                let sextet = (value >> (18 - 6 * position)) & 0x3F
                out.append(position <= chunk.count ? alphabet[sextet] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
