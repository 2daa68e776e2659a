// The calls that differ between operating systems, each behind one name. On Linux they are thin: a port replaces
// their bodies (and the C in ../CPersonaShim), not their callers. None is on the per-message path.

/// Operating-system facilities with no portable POSIX spelling.
public enum OS {
    /// The path of this very binary (Linux: the /proc/self/exe link), or nil if it cannot be read.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The process environment as the C library keeps it (`environ`, which Darwin's headers do not declare: a port
    /// returns `_NSGetEnviron().pointee`).
    public static var environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>! { environ }

    /// A pipe whose two ends get `flags` (O_CLOEXEC, O_NONBLOCK) atomically, as pipe2(2). `fds` holds two ints.
    /// Returns 0 or -1 with errno set.
    public static func makePipe(_ fds: UnsafeMutablePointer<Int32>, flags: Int32) -> Int32 {
        ps_pipe2(fds, flags)
    }

    /// Asks for a pipe capacity of `bytes` (Linux: F_SETPIPE_SZ); returns the new size, or -1 where a descriptor or
    /// the system does not take it. Callers treat it as a hint.
    @discardableResult
    public static func setPipeCapacity(_ fd: Int32, bytes: Int32) -> Int32 {
        ps_set_pipe_size(fd, bytes)
    }

    /// A descriptor that names `pid` for as long as it is unreaped (Linux: pidfd_open), or -1 with errno set
    /// (ENOSYS where there is none).
    public static func openProcessHandle(_ pid: pid_t) -> Int32 {
        ps_pidfd_open(pid)
    }

    /// Signals the process `handle` names (Linux: pidfd_send_signal); 0 or -1 with errno set (ESRCH once reaped).
    public static func signalProcessHandle(_ handle: Int32, _ signal: Int32) -> Int32 {
        ps_pidfd_send_signal(handle, signal)
    }

    /// Makes orphaned descendants reparent to this process instead of init (Linux: PR_SET_CHILD_SUBREAPER).
    /// Returns 0 or -1 with errno set.
    public static func becomeChildSubreaper() -> Int32 {
        ps_set_child_subreaper()
    }

    /// Closes this process to tracing and to `/proc/PID/mem`, `environ`, `fd` by other processes of the same user
    /// (Linux: PR_SET_DUMPABLE 0; no core dump either). Programs it executes are not affected. Returns 0 or -1.
    @discardableResult
    public static func forbidTracing() -> Int32 {
        ps_forbid_tracing()
    }

    /// Reaps exited children not in `known` (orphans adopted as a subreaper), stopping at the first known one, which
    /// is left for its owner. Returns how many were reaped.
    @discardableResult
    public static func reapOrphans(known: [pid_t]) -> Int32 {
        known.withUnsafeBufferPointer { ps_reap_orphans($0.baseAddress, Int32($0.count)) }
    }

    /// Forks the guardian (see ps_guardian_start): returns 0 and its pid and the write end of its pipe, or an errno.
    public static func startGuardian(
        graceMilliseconds: Int32, writeFD: inout Int32, pid: inout pid_t
    ) -> Int32 {
        ps_guardian_start(graceMilliseconds, &writeFD, &pid)
    }

    /// Flushes a file's data (not every metadata change) to the device (Linux: fdatasync). 0 or -1 with errno set.
    public static func syncData(_ fd: Int32) -> Int32 {
        fdatasync(fd)
    }

    /// "EPIPE" for EPIPE, or nil for an unknown errno.
    public static func errnoName(_ code: Int32) -> String? {
        ps_errno_name(code).map { String(cString: $0) }
    }

    /// "KILL" for SIGKILL, or nil for an unknown signal.
    public static func signalName(_ signal: Int32) -> String? {
        ps_signal_abbrev(signal).map { String(cString: $0) }
    }

    /// A descriptor that becomes readable when a watched folder changes (Linux: inotify), or -1 with errno set.
    public static func openFolderWatch() -> Int32 { ps_watch_open() }

    /// Adds `folder` to the watch `fd`: files created, renamed in or out, written and closed, removed, or changed
    /// in mode. Returns 0 or -1 with errno set.
    public static func watchFolder(_ fd: Int32, _ folder: String) -> Int32 {
        ps_watch_folder(fd, folder) >= 0 ? 0 : -1
    }

    /// Empties the watch's queue: 1 if something changed since the last call, 0 if not, -1 with errno set.
    public static func drainFolderWatch(_ fd: Int32) -> Int32 { ps_watch_drain(fd) }
}
