import Platform

/// Everything a session needs that is decided before it starts.
public struct ShimConfiguration: Sendable {
    public var persona: Persona
    public var auditPath: String
    /// This binary, used when a server's command is `persona-shim` (bundled example servers, nested shims).
    public var selfExecutable: String
    public var environment: [String: String]
    public var logger: Logger
    /// The longest line accepted from the agent (the persona's `transport.maxAgentMessageBytes`).
    public var lineLimit: Int
    /// The longest line accepted from a server (the persona's `transport.maxServerMessageBytes`).
    public var serverLineLimit: Int
    /// How long servers get after their stdin closes, and again after SIGTERM, before the next step.
    public var shutdownGrace: Double = 2
    /// How long answers still in flight may take once the agent has closed its input.
    public var drainSeconds: Double = 5
    public var version: String
    /// The shim's process id, for the session's first audit record.
    public var processID = Int(getpid())
    /// Where a server without its own `cwd` runs, and so where its relative path arguments lead.
    public var workingDirectory = Paths.currentDirectory()
    /// Reads the file system for path rules (a fake one in tests).
    public var fileSystem: any FileSystemView = LocalFileSystem()
    /// Where limits that count across sessions keep their counts; nil: none are kept, and such limits refuse.
    public var sharedLimits: (any SharedLimitStore)?
    /// The kill switch's folders, the user's first, then the machine's (see KillSwitch.swift); none: no kill
    /// switch is read.
    public var killDirectories: [String] = []
    /// Where the persona is read again when its files change; nil: no hot reload.
    public var reloadSource: PersonaReloadSource?

    public init(
        persona: Persona, auditPath: String, selfExecutable: String, environment: [String: String], logger: Logger,
        version: String
    ) {
        self.persona = persona
        self.auditPath = auditPath
        self.selfExecutable = selfExecutable
        self.environment = environment
        self.logger = logger
        self.version = version
        self.lineLimit = persona.transport.maxAgentMessageBytes
        self.serverLineLimit = persona.transport.maxServerMessageBytes
    }
}
