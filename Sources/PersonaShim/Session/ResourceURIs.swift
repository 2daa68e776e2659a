/// Keeps resource URIs unambiguous across servers: with two or more servers, the agent sees
/// `<prefix>+<original uri>`, where the prefix is the server's name made a valid URI scheme part (lowercase,
/// since clients normalise schemes; characters a scheme cannot hold become `-`); with one, URIs pass unchanged.
///
/// The rule depends only on the persona (how many servers it declares), never on which URIs happen to collide
/// at the moment, so a URI the agent saw once keeps meaning the same resource.
struct ResourceURIs {
    let prefixes: [String]
    let prefixed: Bool

    init(servers: [String]) {
        self.prefixes = servers.map(Self.prefix)
        self.prefixed = servers.count > 1
    }

    /// The URI scheme prefix for a server name: `Billing_EU` becomes `billing-eu`.
    static func prefix(_ server: String) -> String {
        var result = ""
        for scalar in server.lowercased().unicodeScalars {
            let keep =
                scalar.isASCII
                && (("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == ".")
            result.unicodeScalars.append(keep ? scalar : "-")
        }
        if let first = result.unicodeScalars.first, !("a"..."z").contains(first) { result = "s-" + result }
        return result
    }

    /// The URI the agent sees for `uri` on `server`.
    func expose(_ uri: String, server: Int) -> String {
        prefixed ? prefixes[server] + "+" + uri : uri
    }

    /// The server and original URI behind a URI the agent sent, or nil when it names no server.
    func resolve(_ exposed: String) -> (server: Int, uri: String)? {
        guard prefixed else { return prefixes.isEmpty ? nil : (0, exposed) }
        guard let plus = exposed.firstIndex(of: "+") else { return nil }
        let name = exposed[..<plus].lowercased()
        guard let server = prefixes.firstIndex(of: name) else { return nil }
        return (server, String(exposed[exposed.index(after: plus)...]))
    }

    /// Rewrites URIs inside content blocks (`resource`, `resource_link`) of a tool result or prompt message list.
    func exposeContent(_ value: JSONValue, server: Int) -> JSONValue {
        guard prefixed else { return value }
        switch value {
        case .array(let items): return .array(items.map { exposeContent($0, server: server) })
        case .object(var object):
            switch object["type"]?.stringValue {
            case "resource_link":
                if let uri = object["uri"]?.stringValue { object["uri"] = .string(expose(uri, server: server)) }
            case "resource":
                if case .object(var resource)? = object["resource"], let uri = resource["uri"]?.stringValue {
                    resource["uri"] = .string(expose(uri, server: server))
                    object["resource"] = .object(resource)
                }
            default:
                if let content = object["content"] { object["content"] = exposeContent(content, server: server) }
                if let messages = object["messages"] { object["messages"] = exposeContent(messages, server: server) }
            }
            return .object(object)
        default: return value
        }
    }
}
