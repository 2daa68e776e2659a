import Platform

/// Starts children with pipes for their standard streams.
public enum ChildSpawner {
    /// Searched when the environment given to `spawn` has no PATH (the `confstr(_CS_PATH)` default).
    public static let defaultSearchPath = "/bin:/usr/bin"

    /// Spawns `command` with the given full environment (use `ChildEnvironment.build` first).
    ///
    /// A bare command name is looked up on the environment's PATH (the one the child will see, as the MCP SDKs do),
    /// falling back to `defaultSearchPath`. Creates pipes with pipe2(O_CLOEXEC), sets the parent ends O_NONBLOCK,
    /// and closes the child ends in the parent after spawning, on every path including failure.
    public static func spawn(
        _ command: ChildCommand, environment: [String: String]
    ) throws(SpawnError) -> SpawnedChild {
        let path: String
        var searchPath: String?
        if command.executable.contains("/") {
            // No pre-check: execve's own errno (EACCES, ENOEXEC, ...) is the most precise answer.
            path = ExecutableResolver.absolute(command.executable, workingDirectory: command.workingDirectory)
        } else {
            let searched = environment["PATH"] ?? defaultSearchPath
            searchPath = searched
            let found = ExecutableResolver.search(
                command.executable, searchPath: searched, workingDirectory: command.workingDirectory)
            switch found {
            case .found(let resolved):
                path = resolved
            case .failed(let code):
                throw SpawnError(executable: command.executable, errno: code, searchPath: searched)
            }
        }

        var ends: [Int32] = []
        for _ in 0..<3 {
            var pair: [Int32] = [-1, -1]
            guard OS.makePipe(&pair, flags: O_CLOEXEC) == 0 else {
                let code = Platform.errno
                ends.forEach(FD.close)
                throw SpawnError(executable: command.executable, errno: code)
            }
            ends += pair
        }
        let (childStdin, parentStdin) = (ends[0], ends[1])
        let (parentStdout, childStdout) = (ends[2], ends[3])
        let (parentStderr, childStderr) = (ends[4], ends[5])
        let parentEnds = [parentStdin, parentStdout, parentStderr]
        // The child holds its own copies from here on; ours would keep its stdin open and hide its EOFs.
        defer { [childStdin, childStdout, childStderr].forEach(FD.close) }

        for fd in parentEnds {
            do {
                try FD.setNonBlocking(fd)
            } catch {
                parentEnds.forEach(FD.close)
                throw SpawnError(executable: command.executable, errno: error.errno)
            }
        }

        let argv = [command.executable] + command.arguments
        let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let code = withCStrings(argv) { argvPointer in
            withCStrings(envp) { envpPointer in
                ps_spawn(
                    path, argvPointer, envpPointer, command.workingDirectory, childStdin, childStdout,
                    childStderr, &pid)
            }
        }
        guard code == 0 else {
            parentEnds.forEach(FD.close)
            if let directory = command.workingDirectory, !ExecutableResolver.isUsableDirectory(directory) {
                throw SpawnError(executable: command.executable, errno: code, unusableWorkingDirectory: directory)
            }
            throw SpawnError(executable: command.executable, errno: code, searchPath: searchPath)
        }
        return SpawnedChild(pid: pid, stdin: parentStdin, stdout: parentStdout, stderr: parentStderr)
    }

    /// Calls `body` with a NULL-terminated C array of copies of `strings`, freed afterwards.
    private static func withCStrings<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R
    ) -> R {
        let copies = strings.map { strdup($0) } + [nil]
        defer { copies.forEach { free($0) } }
        return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
