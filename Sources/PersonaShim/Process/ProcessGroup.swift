import Platform

/// Signals a child together with everything it started: children lead their own process group (pgid == pid).
public enum ProcessGroup {
    /// Sends `signal` to the whole process group led by `pid` (killpg); ignores ESRCH.
    ///
    /// Does nothing for `pid` <= 1: killpg(0) would signal the shim's own group and killpg(1) init's.
    public static func signal(_ pid: pid_t, _ signal: Int32) {
        guard pid > 1 else { return }
        _ = killpg(pid, signal)
    }

    /// True while any process remains in the group (kill(-pid, 0) == 0 or EPERM).
    ///
    /// A dead process stays in its group until reaped: the leader until `Reaper` collects it, an orphaned
    /// grandchild until init (or a subreaper) does, which may lag.
    public static func exists(_ pid: pid_t) -> Bool {
        guard pid > 1 else { return false }
        return kill(-pid, 0) == 0 || errno == EPERM
    }
}
