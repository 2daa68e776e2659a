import Platform

/// One running server process as the shell holds it: its pid (which is also its process group), its pipes, the
/// readers over its output, and, once it is being taken down, its teardown plan.
final class ServerProcess {
    let server: Int
    let name: String
    let pid: pid_t
    var stdinFD: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    let stdout: LineReader
    let stderr = LineReader(limit: 64 * 1024)
    /// Set once the process is reaped.
    var exitStatus: ExitStatus?
    /// Set when the output closed before the exit could be collected: the departure is reported then anyway.
    var departureDeadline: UInt64?
    var teardown: Teardown?
    /// Complete lines are buffered that the last turn had no budget left for.
    var hasBacklog = false
    /// Set once it no longer serves its server (it failed, or a restart replaced it).
    var isRetired = false

    /// Every server's process group, signalled only while it is certainly the shim's.
    let groups: ServerGroups

    init(server: Int, name: String, spawned: SpawnedChild, lineLimit: Int, groups: ServerGroups) {
        self.groups = groups
        self.server = server
        self.name = name
        self.pid = spawned.pid
        self.stdinFD = spawned.stdin
        self.stdoutFD = spawned.stdout
        self.stderrFD = spawned.stderr
        self.stdout = LineReader(limit: lineLimit)
        // Larger pipes move a big result in fewer wake-ups; failure (an old kernel, a lower limit) is harmless.
        OS.setPipeCapacity(spawned.stdout, bytes: 1 << 20)
        OS.setPipeCapacity(spawned.stdin, bytes: 1 << 20)
    }

    var isRunning: Bool { exitStatus == nil }

    /// Whether anything of its process group may remain: the leader until reaped, then any process it started.
    var groupRemains: Bool { isRunning || groups.remains(pid) }

    /// Collects its exit status if it has ended.
    func reap() -> ExitStatus? {
        guard exitStatus == nil, let status = Reaper.poll(pid) else { return nil }
        exitStatus = status
        // What the leader left in its group gets SIGTERM now and SIGKILL after the grace period.
        groups.leaderReaped(pid)
        return status
    }

    func closeInput() {
        if stdinFD >= 0 { FD.close(stdinFD) }
        stdinFD = -1
    }

    func closeOutput() {
        if stdoutFD >= 0 { FD.close(stdoutFD) }
        stdoutFD = -1
    }

    func closeAll() {
        closeInput()
        closeOutput()
        if stderrFD >= 0 { FD.close(stderrFD) }
        stderrFD = -1
    }

    /// Begins taking it down (once): stdin closes now; signals follow as `advanceTeardown` is called.
    func beginTeardown(now: UInt64, grace: UInt64, skipGrace: Bool = false) {
        guard teardown == nil else { return }
        closeInput()
        teardown = Teardown(now: now, grace: grace, skipGrace: skipGrace)
    }

    /// Sends whatever signal the plan says is due; true once nothing of the group is left (or it gave up).
    func advanceTeardown(now: UInt64, logger: Logger) -> Bool {
        guard var plan = teardown else { return false }
        _ = reap()
        let order = plan.advance(now: now, groupRemains: groupRemains)
        teardown = plan
        switch order {
        case .signal(let signal):
            if signal == SIGKILL && isRunning {
                logger.warning("[\(name)] did not stop after SIGTERM; sending SIGKILL")
            }
            groups.signal(pid, signal)
            return false
        case .wait: return false
        case .done: return true
        }
    }
}

extension ServerProcess {
    /// Reads and drops whatever the server writes now that nobody listens; closes the pipe at its end.
    func discardOutput() {
        var scratch = [UInt8](repeating: 0, count: 65536)
        while stdoutFD >= 0 {
            let result = scratch.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try FD.read(stdoutFD, into: raw) }
            }
            switch result {
            case .success(nil): return
            case .success(let count?) where count > 0: continue
            default: closeOutput()
            }
        }
    }
}
