/// MCP facts the shim relies on.
public enum MCPProtocol {
    /// Revisions the shim speaks, newest first. An agent asking for another gets the newest.
    public static let supportedVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    public static let latestVersion = supportedVersions[0]

    /// The revision to answer an agent that asked for `requested`.
    public static func negotiate(_ requested: String?) -> String {
        guard let requested, supportedVersions.contains(requested) else { return latestVersion }
        return requested
    }

    /// Stateless revisions (no `initialize`; version and capabilities in every request's `_meta`), newest first.
    public static let modernVersions = ["2026-07-28"]
    public static let latestModernVersion = modernVersions[0]
    /// Every revision the shim speaks, stateless ones first: what `server/discover` offers.
    public static let allVersions = modernVersions + supportedVersions

    /// The `_meta` keys of the stateless revisions.
    public static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
    public static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    public static let clientInfoKey = "io.modelcontextprotocol/clientInfo"
    public static let serverInfoKey = "io.modelcontextprotocol/serverInfo"
    public static let subscriptionIDKey = "io.modelcontextprotocol/subscriptionId"
    /// The prefix the specification reserves for its own `_meta` keys.
    public static let reservedMetaPrefix = "io.modelcontextprotocol/"
}

/// JSON-RPC error codes the shim answers with.
public enum JSONRPCError {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// Implementation-defined: the shim refused or could not complete the request (timeout, server gone).
    public static let requestFailed = -32000
    public static let requestTimeout = -32001
    /// The spec's "Resource not found".
    public static let resourceNotFound = -32002
    /// Stateless revisions: the request needs a client capability it did not declare.
    public static let missingRequiredClientCapability = -32021
    /// Stateless revisions: the request's protocol version is not one the receiver speaks.
    public static let unsupportedProtocolVersion = -32022
}

/// Builds the shim's own JSON-RPC messages, with ids kept as the raw bytes the peer sent.
///
/// Inlinable so that a caller in another module gets them specialised for its id type: an unspecialised generic
/// call looks up type metadata at run time, which cost the fixture more than its whole envelope scan. The type is
/// public only because Swift 6.3 does not inline package members of a package type into other modules; its members
/// stay package.
public enum Message {
    @inlinable package static func response(id: some Collection<UInt8>, result: JSONValue) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: id)
        out.append(contentsOf: #","result":"#.utf8)
        JSONWriter.append(result, to: &out)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// What comes before an already serialised result in a response line; `responseTail` comes after it. A large
    /// result can then be written as it is, in parts, instead of being copied into one line first.
    @inlinable package static func responseHead(id: some Collection<UInt8>) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: id)
        out.append(contentsOf: #","result":"#.utf8)
        return out
    }

    package static let responseTail = Array("}\n".utf8)

    /// An error response; `id` nil writes `"id":null` (for lines whose id could not be read).
    @inlinable package static func error(
        id: (some Collection<UInt8>)?, code: Int, message: String, data: JSONValue? = nil
    ) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        if let id { out.append(contentsOf: id) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","error":{"code":"#.utf8)
        out.append(contentsOf: String(code).utf8)
        out.append(contentsOf: #","message":"#.utf8)
        JSONWriter.appendString(message, to: &out)
        if let data {
            out.append(contentsOf: #","data":"#.utf8)
            JSONWriter.append(data, to: &out)
        }
        out.append(contentsOf: "}}\n".utf8)
        return out
    }

    @inlinable package static func request(id: Int, method: String, params: JSONValue?) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: String(id).utf8)
        out.append(contentsOf: #","method":"#.utf8)
        JSONWriter.appendString(method, to: &out)
        if let params {
            out.append(contentsOf: #","params":"#.utf8)
            JSONWriter.append(params, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    @inlinable package static func notification(method: String, params: JSONValue?) -> [UInt8] {
        var out = Array(#"{"jsonrpc":"2.0","method":"#.utf8)
        JSONWriter.appendString(method, to: &out)
        if let params {
            out.append(contentsOf: #","params":"#.utf8)
            JSONWriter.append(params, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// A `tools/call` result that reports a refusal to the model as a tool error it can read.
    @inlinable package static func toolError(_ text: String) -> JSONValue {
        ["content": [["type": "text", "text": .string(text)]], "isError": true]
    }
}
