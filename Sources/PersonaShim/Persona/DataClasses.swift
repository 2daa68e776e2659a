/// The kinds of data a persona's job touches (`pii.customer`, `finance`, `source-code`, or an organisation's own),
/// and which servers, tools and resources handle which.
///
/// Labels say what a thing handles; the persona's `allow` says what the job may touch. A request to anything
/// labelled with a class outside `allow` is refused before it runs. Labels come from the persona and from a
/// shared classification file it names, so one team's classification serves every persona.
public struct DataClassPolicy: Sendable, Equatable {
    /// What a thing without any label gets.
    public enum Unlabelled: String, Sendable, Equatable { case allow, refuse }

    /// One label: a pattern over servers (by name), tools (exposed names) or resources (URIs as the agent sees
    /// them), and the classes it gives what matches.
    public struct Label: Sendable, Equatable {
        public var pattern: Glob
        public var classes: [String]
        /// Where it was written, for sentences (`persona.json`, or the classification file).
        public var source: String

        public init(pattern: Glob, classes: [String], source: String) {
            self.pattern = pattern
            self.classes = classes
            self.source = source
        }
    }

    /// The classes the persona declares, sorted.
    public var allow: [String]
    public var unlabelled: Unlabelled
    public var servers: [Label] = []
    public var tools: [Label] = []
    public var resources: [Label] = []
    /// The shared classification file, when the persona names one (absolute).
    public var classificationFile: String?

    public init(allow: [String], unlabelled: Unlabelled) {
        self.allow = allow
        self.unlabelled = unlabelled
    }

    /// The classes of one request's subject, sorted and without repeats: its server's labels, and its own (tools
    /// by exposed name or an alias, resources by URI; prompts carry their server's labels).
    public func classes(of subject: PolicySubject) -> [String] {
        var found = Set<String>()
        for label in servers where label.pattern.matches(subject.server) { found.formUnion(label.classes) }
        let own: [Label]
        switch subject.kind {
        case .tool: own = tools
        // A completion's reference is a prompt name or a resource URI; only a URI can match resource labels.
        case .resource, .completion: own = resources
        case .prompt: own = []
        }
        for label in own
        where label.pattern.matches(subject.exposedName) || subject.aliases.contains(where: label.pattern.matches) {
            found.formUnion(label.classes)
        }
        return found.sorted()
    }

    /// Whether `name` is a well-formed class name: letters, digits, `.`, `_` and `-`, at most 64 characters.
    static func isValidClass(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }
    }
}
