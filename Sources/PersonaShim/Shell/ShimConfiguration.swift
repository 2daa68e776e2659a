#if canImport(Glibc)
    import Glibc
#endif

/// Everything a session needs that is decided before it starts.
public struct ShimConfiguration: Sendable {
    public var persona: Persona
    public var auditPath: String
    /// This binary, used when a server's command is `persona-shim` (bundled example servers, nested shims).
    public var selfExecutable: String
    public var environment: [String: String]
    public var logger: Logger
    /// The longest line accepted from the agent.
    public var lineLimit = 16 * 1024 * 1024
    /// The longest line accepted from a server (a tool result can legitimately be large).
    public var serverLineLimit = 256 * 1024 * 1024
    /// How long servers get after their stdin closes, and again after SIGTERM, before the next step.
    public var shutdownGrace: Double = 2
    /// How long answers still in flight may take once the agent has closed its input.
    public var drainSeconds: Double = 5
    public var version: String
    /// The shim's process id, for the session's first audit record.
    public var processID = Int(getpid())

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
    }
}
