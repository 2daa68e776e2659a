/// Keeps resource URIs unambiguous across servers: with two or more servers, the agent sees
/// `<server>+<original uri>`; with one, URIs pass unchanged.
///
/// The rule depends only on the persona (how many servers it declares), never on which URIs happen to collide
/// at the moment, so a URI the agent saw once keeps meaning the same resource.
struct ResourceURIs {
    let servers: [String]
    let prefixed: Bool

    init(servers: [String]) {
        self.servers = servers
        self.prefixed = servers.count > 1
    }

    /// The URI the agent sees for `uri` on `server`.
    func expose(_ uri: String, server: Int) -> String {
        prefixed ? servers[server] + "+" + uri : uri
    }

    /// The server and original URI behind a URI the agent sent, or nil when it names no server.
    func resolve(_ exposed: String) -> (server: Int, uri: String)? {
        guard prefixed else { return servers.isEmpty ? nil : (0, exposed) }
        guard let plus = exposed.firstIndex(of: "+") else { return nil }
        let name = String(exposed[..<plus])
        guard let server = servers.firstIndex(of: name) else { return nil }
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
