/// What a request is about: a tool, a prompt, a resource or a completion reference, on one server.
public struct PolicySubject: Sendable, Equatable {
    public enum Kind: String, Sendable { case tool, prompt, resource, completion }

    public var kind: Kind
    /// What the agent asked for, as it sees it: `crm__get_ticket`, `crm__greet`, or a resource URI.
    public var exposedName: String
    public var server: String
    /// The server's own name for it: the tool or prompt name, or the URI.
    public var name: String
    /// Other names the same thing goes by (the plain `server__tool` when a collision forced a hashed name),
    /// so that a deny pattern written for the plain name still applies.
    public var aliases: [String]

    public init(kind: Kind, exposedName: String, server: String, name: String, aliases: [String] = []) {
        self.kind = kind
        self.exposedName = exposedName
        self.server = server
        self.name = name
        self.aliases = aliases
    }
}

/// One request as the policy judges it: its subject, its arguments where a check reads them, and the time.
public struct PolicyRequest: Sendable {
    public var subject: PolicySubject
    public var arguments: JSONValue?
    public var now: Instant

    public init(_ subject: PolicySubject, arguments: JSONValue? = nil, now: Instant) {
        self.subject = subject
        self.arguments = arguments
        self.now = now
    }

    public var exposedName: String { subject.exposedName }
}
