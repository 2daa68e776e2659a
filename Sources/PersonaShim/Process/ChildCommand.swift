import Platform

/// What to run: the shape of an MCP client's `mcpServers` entry.
public struct ChildCommand: Sendable, Equatable {
    /// A name to look up on `PATH`, or a path (anything containing "/").
    public var executable: String
    /// The arguments after `argv[0]`, which is `executable` as written.
    public var arguments: [String]
    /// The declared environment, added on top of the base environment (see `ChildEnvironment.build`).
    public var environment: [String: String]
    /// The directory the child starts in; nil keeps the shim's own.
    public var workingDirectory: String?

    /// Creates a command; only `executable` is required.
    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        workingDirectory: String? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// A spawned child: its pid (== its process group id) and the parent's ends of its three pipes.
///
/// All three descriptors are O_CLOEXEC and O_NONBLOCK and belong to the caller, who must close them.
public struct SpawnedChild: Sendable {
    /// The child's pid, which is also its process group id.
    public let pid: pid_t
    /// Write end of the child's standard input.
    public let stdin: Int32
    /// Read end of the child's standard output.
    public let stdout: Int32
    /// Read end of the child's standard error.
    public let stderr: Int32

    /// Wraps descriptors that already satisfy the type's guarantees.
    public init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) {
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }
}
