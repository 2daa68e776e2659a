// Process-level helpers: pid files and the grandchild used to test process-group cleanup.

import PersonaShimExamples
import Platform

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
    let status = posix_spawn(&pid, "/bin/sh", nil, nil, argv, OS.environment)
    guard status == 0 else {
        StdioIO.log("persona-fixture: posix_spawn /bin/sh failed: errno \(status)")
        return nil
    }
    return pid
}

/// `persona-fixture reap`: a stand-in for init. As a child subreaper it adopts every orphaned descendant of
/// COMMAND and reaps it, so a process that is still listed in /proc after COMMAND is killed is truly left over (not a
/// zombie waiting for a reaper), and it exits only once no descendant is left at all.
func reapDescendants(pidFile: String, command: [String]) -> Int32 {
    guard OS.becomeChildSubreaper() == 0 else {
        StdioIO.log("persona-fixture: prctl(PR_SET_CHILD_SUBREAPER) failed: errno \(errno)")
        return 70
    }
    let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    let status = posix_spawn(&child, command[0], nil, nil, argv, OS.environment)
    guard status == 0 else {
        StdioIO.log("persona-fixture: cannot start \(command[0]): errno \(status)")
        return 127
    }
    // The child has the standard streams; holding them here would hide their EOF from both ends.
    let devnull = open("/dev/null", O_RDWR)
    for fd: Int32 in 0...2 { dup2(devnull, fd) }
    if devnull > 2 { close(devnull) }
    guard writePIDFile(pidFile, pid: child) else { return 70 }
    var exitCode: Int32 = 0
    while true {
        var waitStatus: Int32 = 0
        let reaped = waitpid(-1, &waitStatus, 0)
        if reaped < 0 {
            if errno == EINTR { continue }
            return exitCode
        }
        if reaped == child { exitCode = waitStatus & 0x7F == 0 ? (waitStatus >> 8) & 0xFF : 128 + waitStatus & 0x7F }
    }
}
