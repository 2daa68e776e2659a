import Platform

/// How a child ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// It called exit with this code.
    case exited(Int32)
    /// A signal with this number killed it.
    case signaled(Int32)

    /// What `Reaper` reports for a pid that is not (or no longer) a child of this process, e.g. one already reaped.
    /// Real exit codes are 0...255, so -1 cannot be mistaken for one.
    public static let unknown = ExitStatus.exited(-1)

    /// E.g. "exited with code 3" or "was killed by signal 9 (SIGKILL)".
    public var description: String {
        switch self {
        case .unknown:
            return "ended with an unknown status (it had already been reaped)"
        case .exited(let code):
            return "exited with code \(code)"
        case .signaled(let signal):
            guard let abbrev = OS.signalName(signal) else { return "was killed by signal \(signal)" }
            return "was killed by signal \(signal) (SIG\(abbrev))"
        }
    }

    /// Decodes a waitpid status; nil for stop/continue reports, which are not endings.
    init?(waitStatus status: Int32) {
        if ps_wifexited(status) != 0 {
            self = .exited(ps_wexitstatus(status))
        } else if ps_wifsignaled(status) != 0 {
            self = .signaled(ps_wtermsig(status))
        } else {
            return nil
        }
    }
}

/// Collects ended children so they do not linger as zombies.
public enum Reaper {
    /// waitpid(pid, WNOHANG): nil while still running.
    ///
    /// Returns `ExitStatus.unknown` if `pid` is not a child of this process (e.g. already reaped).
    public static func poll(_ pid: pid_t) -> ExitStatus? {
        // waitpid(0) and waitpid(-n) would reap some other child.
        guard pid > 0 else { return .unknown }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == 0 {
                return nil
            }
            if result == pid {
                return ExitStatus(waitStatus: status)
            }
            if errno != EINTR {
                return .unknown
            }
        }
    }

    /// Blocking wait (loops on EINTR).
    ///
    /// Returns `ExitStatus.unknown` if `pid` is not a child of this process (e.g. already reaped).
    public static func wait(_ pid: pid_t) -> ExitStatus {
        guard pid > 0 else { return .unknown }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, 0)
            if result == pid, let ended = ExitStatus(waitStatus: status) {
                return ended
            }
            if result < 0 && errno != EINTR {
                return .unknown
            }
        }
    }
}
