import Platform

/// Why a child could not be started, phrased for the person who wrote the server's config entry.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    /// The command as configured.
    public let executable: String
    /// What failed: ENOENT/EACCES for a bad command, or whatever pipe2/fork/chdir reported.
    public let errno: Int32
    /// The PATH that was searched, when the command was a bare name.
    public let searchPath: String?
    /// Set when the configured working directory, not the command, is what failed.
    public let unusableWorkingDirectory: String?

    /// Creates an error; see the properties.
    public init(executable: String, errno: Int32, searchPath: String? = nil, unusableWorkingDirectory: String? = nil) {
        self.executable = executable
        self.errno = errno
        self.searchPath = searchPath
        self.unusableWorkingDirectory = unusableWorkingDirectory
    }

    /// Whether trying again later may succeed: the machine (or the shim) was out of processes, memory or
    /// descriptors, not the command wrong.
    public var isTransient: Bool { [EAGAIN, ENOMEM, EMFILE, ENFILE].contains(errno) }

    /// E.g. `could not start "foo": No such file or directory (looked in PATH /usr/bin:/bin). Check the server's
    /// "command".`
    public var description: String {
        let reason = String(cString: strerror(errno))
        if let directory = unusableWorkingDirectory {
            return "could not start \"\(executable)\": its working directory \"\(directory)\" is not usable "
                + "(\(reason)). Check the server's working directory."
        }
        var sentence = "could not start \"\(executable)\": \(reason)"
        if let searchPath {
            sentence += " (looked in PATH \(searchPath))"
        }
        sentence += "."
        if Self.commandErrnos.contains(errno) {
            sentence += " Check the server's \"command\"."
        }
        return sentence
    }

    /// Errors that mean the configured command is wrong, as opposed to the machine being out of something.
    private static let commandErrnos: Set<Int32> = [ENOENT, EACCES, ENOEXEC, ENOTDIR, ELOOP, ENAMETOOLONG, EISDIR]
}
