/// Turns downstream tool names into the names the agent sees: `<server>__<tool>`, restricted to
/// `^[A-Za-z0-9_-]{1,64}$` because the model APIs behind the major clients accept nothing else.
public enum ToolNaming {
    public static let maximumLength = 64

    /// Replaces every character outside `[A-Za-z0-9_-]` with `_`.
    public static func sanitize(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            let keep =
                scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
            result.unicodeScalars.append(keep ? scalar : "_")
        }
        return result.isEmpty ? "_" : result
    }

    /// The exposed name of `tool` on `server`, before collisions are resolved.
    public static func exposedName(server: String, tool: String) -> String {
        let name = sanitize(server) + "__" + sanitize(tool)
        if name.utf8.count <= maximumLength { return name }
        return hashed(name, server: server, tool: tool)
    }

    /// A name cut to fit, made unique by a short hash of the original server and tool names.
    static func hashed(_ name: String, server: String, tool: String, salt: Int = 0) -> String {
        var material = Array(server.utf8) + [0] + Array(tool.utf8)
        if salt > 0 { material += [0] + Array(String(salt).utf8) }
        let suffix = String(SHA256.hash(material).hexString.prefix(8))
        return String(name.prefix(maximumLength - 9)) + "_" + suffix
    }
}

/// The tools of all downstream servers under their exposed names, in a deterministic order
/// (servers in persona order, tools in each server's order), with the persona's verdict on each.
public struct ToolCatalog: Sendable {
    public struct Entry: Sendable {
        public var exposedName: String
        public var server: String
        public var tool: String
        /// The tool definition as the agent sees it (its `name` replaced by the exposed name).
        public var definition: JSONObject
        /// `sanitize(server)__sanitize(tool)`: what the name would be without truncation or collisions.
        public var naturalName: String
        /// Whether the persona lets the agent see (and so call) this tool, and which rule said so.
        public var scope: PolicyDecision
        public var isVisible: Bool { scope.verdict == .allow }
    }

    public private(set) var entries: [Entry] = []
    /// Exposed names of tools whose text had to be cleaned of control and invisible characters.
    public private(set) var cleaned: [String] = []
    private var indexByName: [String: Int] = [:]

    public init() {}

    /// Builds the catalog from each server's tool definitions.
    public init(servers: [(name: String, tools: [JSONObject])], kind: PolicySubject.Kind = .tool, scope: PolicyChain) {
        for (server, tools) in servers {
            var seenTools: Set<String> = []
            for definition in tools {
                // A server listing the same name twice gets it once: a second copy must not become an alias.
                guard let tool = definition["name"]?.stringValue, seenTools.insert(tool).inserted else { continue }
                let natural = ToolNaming.sanitize(server) + "__" + ToolNaming.sanitize(tool)
                var name = ToolNaming.exposedName(server: server, tool: tool)
                var salt = 0
                while indexByName[name] != nil {
                    // Two downstream names sanitise to the same exposed name; never abort, disambiguate.
                    salt += 1
                    name = ToolNaming.hashed(natural, server: server, tool: tool, salt: salt)
                }
                var exposed = definition
                exposed["name"] = .string(name)
                let subject = PolicySubject(
                    kind: kind, exposedName: name, server: server, name: tool, aliases: natural == name ? [] : [natural]
                )
                let decision = scope.evaluate(PolicyRequest(subject, now: .distantPast))
                indexByName[name] = entries.count
                entries.append(
                    Entry(
                        exposedName: name, server: server, tool: tool, definition: exposed, naturalName: natural,
                        scope: decision))
            }
        }
    }

    /// The tools the agent is offered under `policy`, as the session builds them: task-only tools left out
    /// (the shim does not map tasks yet, and they cannot be called the plain way), the list phase applied.
    public init(tools servers: [(name: String, tools: [JSONObject])], policy: PolicyEngine) {
        self.init(
            servers: servers.map { ($0.name, $0.tools.filter(Self.isCallable)) }, kind: .tool,
            scope: policy.toolVisibility)
        for index in entries.indices where entries[index].isVisible {
            let name = entries[index].exposedName
            guard let shown = policy.toolPresentation.present(entries[index].definition, exposedName: name) else {
                entries[index].scope = PolicyDecision(
                    .deny, rule: "readOnly",
                    reason: "\(name) is not declared read-only, and the persona shows only read-only tools")
                continue
            }
            entries[index].definition = shown.tool
            if shown.cleaned { cleaned.append(name) }
        }
    }

    static func isCallable(_ tool: JSONObject) -> Bool {
        tool["execution"]?["taskSupport"]?.stringValue != "required"
    }

    public func index(named exposedName: String) -> Int? { indexByName[exposedName] }

    public func entry(named exposedName: String) -> Entry? {
        indexByName[exposedName].map { entries[$0] }
    }

    public var visible: [Entry] { entries.filter(\.isVisible) }
}
