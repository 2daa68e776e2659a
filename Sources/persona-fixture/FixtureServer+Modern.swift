// `--era modern`: the fixture as a server that speaks only MCP 2026-07-28 (stateless). It answers
// `server/discover`, refuses `initialize`, checks every request's `_meta` (version and client capabilities), and
// gives every result a `resultType` (and its lists `ttlMs` and `cacheScope`). Its tools behave as in the default
// (legacy) mode.

import MCPWire

extension FixtureServer {
    static let modernVersion = "2026-07-28"
    private static let listMethods: Set<String> = [
        "tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read",
    ]

    /// Checks a request as a modern server must; returns false when it was answered here.
    func admitModern(id: Slice<UnsafeRawBufferPointer>, method: String, request: Request) -> Bool {
        if method == "initialize" {
            respond(
                error(
                    id: id, JSONRPCError.methodNotFound,
                    "This server speaks only \(Self.modernVersion), which has no initialize; send server/discover."))
            return false
        }
        let meta = request.members.meta
        guard let version = request.member("io.modelcontextprotocol/protocolVersion", of: meta).flatMap(request.string)
        else {
            respond(error(id: id, JSONRPCError.invalidParams, "Every request needs _meta protocolVersion."))
            return false
        }
        guard version == Self.modernVersion else {
            respond(
                Message.error(
                    id: id, code: -32022, message: "Unsupported protocol version",
                    data: ["supported": [.string(Self.modernVersion)], "requested": .string(version)]))
            return false
        }
        guard let capabilities = request.member("io.modelcontextprotocol/clientCapabilities", of: meta),
            request.bytes[capabilities.lowerBound] == UInt8(ascii: "{")
        else {
            respond(error(id: id, JSONRPCError.invalidParams, "Every request needs _meta clientCapabilities."))
            return false
        }
        guard method == "server/discover" else { return true }
        let capabilitiesValue: JSONValue = options.resources ? ["tools": [:], "resources": [:]] : ["tools": [:]]
        respond(
            Message.response(
                id: id,
                result: [
                    "resultType": "complete", "supportedVersions": [.string(Self.modernVersion)],
                    "capabilities": capabilitiesValue,
                    "_meta": [
                        "io.modelcontextprotocol/serverInfo": ["name": .string(options.name), "version": "1.0.0"]
                    ],
                    "ttlMs": 60000, "cacheScope": "public",
                ]))
        return false
    }

    /// A serialised result with what the modern era asks of it inserted first.
    func markModern(result: [UInt8]) -> [UInt8] {
        guard result.first == UInt8(ascii: "{") else { return result }
        var head = Array(#"{"resultType":"complete""#.utf8)
        if let method = modernMethod, Self.listMethods.contains(method) {
            head.append(contentsOf: #","ttlMs":60000,"cacheScope":"public""#.utf8)
        }
        let rest = result.dropFirst()
        if rest.first != UInt8(ascii: "}") { head.append(UInt8(ascii: ",")) }
        return head + rest
    }

    /// A whole response line with its result marked; other lines as they are.
    func markModern(_ line: [UInt8]) -> [UInt8] {
        line.withUnsafeBytes { raw in
            let end = raw.last == UInt8(ascii: "\n") ? raw.count - 1 : raw.count
            guard let envelope = try? MessageEnvelope.scan(raw, range: 0..<end), envelope.kind == .response,
                let result = envelope.result,
                MessageEnvelope.members(raw, object: result, named: ["resultType"])[0] == nil
            else { return line }
            return Array(raw[..<result.lowerBound]) + markModern(result: Array(raw[result]))
                + Array(raw[result.upperBound...])
        }
    }
}
