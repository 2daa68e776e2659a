// Process-level helpers: pid files and the grandchild used to test process-group cleanup.

import PersonaShimExamples

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Writes `pid` as decimal text to `path`; logs and returns false on failure.
func writePIDFile(_ path: String, pid: pid_t) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        StdioIO.log("persona-fixture: cannot write pid file \(path): errno \(errno)")
        return false
    }
    defer { close(fd) }
    return StdioIO.writeFully(fd: fd, Array("\(pid)\n".utf8)) == 0
}

/// Starts `/bin/sh -c 'sleep 1000'` as a child in our own process group and returns its pid.
///
/// It deliberately stays in our group and inherits our stdio, like the node process behind an `npx` wrapper: a
/// supervisor that signals only the direct child leaves it running and holding the pipes open.
func spawnGrandchild() -> pid_t? {
    let words: [String] = ["/bin/sh", "-c", "sleep 1000"]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
    guard status == 0 else {
        StdioIO.log("persona-fixture: posix_spawn /bin/sh failed: errno \(status)")
        return nil
    }
    return pid
}
