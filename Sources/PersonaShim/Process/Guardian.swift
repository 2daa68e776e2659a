import Platform

/// The process that stops the servers' process groups when the shim is gone, even killed with SIGKILL (which no
/// handler sees and no parent-death signal carries beyond direct children). See `ps_guardian_start`.
///
/// It learns each group as the server is spawned and forgets it once the group is empty; it acts when its pipe
/// reports EOF, which happens however the shim ends, and exits then, so it never outlives the shim by more than
/// the grace period.
public final class Guardian {
    public let pid: pid_t
    private var writeFD: Int32
    /// Why the guardian can no longer be told anything, once that happened (reported once).
    public private(set) var failure: SystemError?

    private init(pid: pid_t, writeFD: Int32) {
        self.pid = pid
        self.writeFD = writeFD
    }

    /// Forks the guardian; `grace` is how long it waits between SIGTERM and SIGKILL.
    public static func start(grace: Double) throws(SystemError) -> Guardian {
        var fd: Int32 = -1
        var pid: pid_t = 0
        let code = OS.startGuardian(graceMilliseconds: Int32(min(max(grace, 0), 60) * 1000), writeFD: &fd, pid: &pid)
        guard code == 0 else { throw SystemError(call: "fork (the guardian)", errno: code) }
        return Guardian(pid: pid, writeFD: fd)
    }

    public func watch(_ group: pid_t) { send(Int32(group)) }
    public func forget(_ group: pid_t) { send(-Int32(group)) }

    /// Closes the pipe, so the guardian stops what is left and exits, and collects it (waiting at most `seconds`).
    public func stop(waiting seconds: Double) {
        if writeFD >= 0 {
            FD.close(writeFD)
            writeFD = -1
        }
        let deadline = monotonicNow() + nanoseconds(seconds)
        while Reaper.poll(pid) == nil {
            guard monotonicNow() < deadline else { return }
            usleep(5_000)
        }
    }

    private func send(_ message: Int32) {
        guard writeFD >= 0, failure == nil else { return }
        var value = message
        // 4 bytes to a pipe are written whole or not at all; the guardian drains it continuously.
        while Platform.write(writeFD, &value, 4) < 0 {
            if errno == EINTR { continue }
            failure = SystemError(call: "write (to the guardian)", errno: errno)
            return
        }
    }
}
