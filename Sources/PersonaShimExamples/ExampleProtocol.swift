// Protocol constants and JSON-RPC response framing shared by the example servers and the fixture.

/// Facts about the MCP revisions these servers speak.
package enum ExampleProtocol {
    /// Revisions a client may ask for and get back unchanged; anything else is answered with `latestVersion`.
    package static let supportedVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    package static let latestVersion = "2025-11-25"

    /// The version to answer an `initialize` request that asked for `requested`.
    package static func negotiatedVersion(requested: String?) -> String {
        guard let requested, supportedVersions.contains(requested) else { return latestVersion }
        return requested
    }

    /// The `result` of an `initialize` response.
    package static func initializeResult(
        requestedVersion: String?, serverName: String, serverVersion: String, instructions: String? = nil
    ) -> ExampleJSON {
        var result: ExampleJSON = [
            "protocolVersion": .string(negotiatedVersion(requested: requestedVersion)),
            "capabilities": ["tools": [:]],
            "serverInfo": ["name": .string(serverName), "version": .string(serverVersion)],
        ]
        if let instructions { result = result.setting("instructions", to: .string(instructions)) }
        return result
    }

    // JSON-RPC 2.0 error codes.
    package static let parseError: Int64 = -32700
    package static let invalidRequest: Int64 = -32600
    package static let methodNotFound: Int64 = -32601
    package static let invalidParams: Int64 = -32602
}

/// Builders for JSON-RPC response lines from the raw bytes of a request id.
///
/// The id is spliced in exactly as the client wrote it, so `1`, `"1"` and `1.0` come back unchanged.
package enum RawResponseFraming {
    package static let resultPrefix: [UInt8] = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    package static let resultInfix: [UInt8] = Array(#","result":"#.utf8)
    package static let errorInfix: [UInt8] = Array(#","error":"#.utf8)
    package static let lineEnd: [UInt8] = Array("}\n".utf8)
    package static let nullID: [UInt8] = Array("null".utf8)

    /// A complete response line carrying `result` (already-serialised JSON).
    @inlinable
    package static func resultLine<ID: Collection, Result: Collection>(id: ID, result: Result) -> [UInt8]
    where ID.Element == UInt8, Result.Element == UInt8 {
        var line: [UInt8] = []
        line.reserveCapacity(resultPrefix.count + id.count + resultInfix.count + result.count + 2)
        line.append(contentsOf: resultPrefix)
        line.append(contentsOf: id)
        line.append(contentsOf: resultInfix)
        line.append(contentsOf: result)
        line.append(contentsOf: lineEnd)
        return line
    }

    /// A complete error response line.
    package static func errorLine<ID: Collection>(id: ID, code: Int64, message: String) -> [UInt8]
    where ID.Element == UInt8 {
        var line = resultPrefix
        line.append(contentsOf: id)
        line.append(contentsOf: errorInfix)
        line.append(contentsOf: #"{"code":"#.utf8)
        line.append(contentsOf: String(code).utf8)
        line.append(contentsOf: #","message":"#.utf8)
        RawJSONEscaping.appendQuoted(message, to: &line)
        line.append(UInt8(ascii: "}"))
        line.append(contentsOf: lineEnd)
        return line
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
