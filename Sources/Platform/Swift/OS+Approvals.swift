// What terminal approval needs from the system: Unix domain sockets with the peer's credentials, and what /proc
// says about a process (its parent, session and controlling terminal). A port replaces these bodies: macOS has
// LOCAL_PEERPID / getpeereid and proc_pidinfo (PROC_PIDTBSDINFO: ppid, tdev, sid).

/// A process as /proc/PID/stat describes it.
public struct ProcessStatus: Sendable, Equatable {
    public var pid: pid_t
    public var parent: pid_t
    public var processGroup: pid_t
    public var session: pid_t
    /// The controlling terminal's device number; 0 when the process has none.
    public var terminal: Int
    /// When it started, in clock ticks since boot: with the pid, it names one process even if the pid is reused.
    public var startTime: UInt64

    public var hasTerminal: Bool { terminal != 0 }

    public init(
        pid: pid_t, parent: pid_t, processGroup: pid_t, session: pid_t, terminal: Int, startTime: UInt64
    ) {
        self.pid = pid
        self.parent = parent
        self.processGroup = processGroup
        self.session = session
        self.terminal = terminal
        self.startTime = startTime
    }
}

extension OS {
    /// /proc/PID/stat, or nil if the process is gone (or was never there).
    public static func processStatus(_ pid: pid_t) -> ProcessStatus? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var count = 0
        while count < buffer.count {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got > 0 {
                count += got
            } else if got < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return parseProcessStatus(buffer[..<count])
    }

    /// Parses a /proc/PID/stat line. The command name (field 2) is in parentheses and may itself hold spaces and
    /// parentheses, so fields are counted from the last ')'.
    public static func parseProcessStatus(_ bytes: ArraySlice<UInt8>) -> ProcessStatus? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")),
            let pid = Int32(String(decoding: bytes[..<close].prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self))
        else { return nil }
        // After "comm)": state (3), ppid (4), pgrp (5), session (6), tty_nr (7), ..., starttime (22).
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " ")).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard fields.count > 19, let parent = Int32(fields[1]), let group = Int32(fields[2]),
            let session = Int32(fields[3]), let terminal = Int(fields[4]),
            let start = UInt64(fields[19].trimmingSuffixNewline)
        else { return nil }
        return ProcessStatus(
            pid: pid, parent: parent, processGroup: group, session: session, terminal: terminal, startTime: start)
    }

    /// A listening Unix domain socket at `path` (non-blocking, close-on-exec, mode 0600): its descriptor, or an
    /// errno.
    public static func listenLocal(_ path: String, backlog: Int32 = 16) -> Result<Int32, LocalSocketError> {
        var fd: Int32 = -1
        let code = ps_local_listen(path, backlog, &fd)
        return code == 0 ? .success(fd) : .failure(LocalSocketError(errno: code))
    }

    /// A blocking connection to the Unix domain socket at `path`: its descriptor, or an errno.
    public static func connectLocal(_ path: String) -> Result<Int32, LocalSocketError> {
        var fd: Int32 = -1
        let code = ps_local_connect(path, &fd)
        return code == 0 ? .success(fd) : .failure(LocalSocketError(errno: code))
    }

    /// A connection waiting on a listening socket (non-blocking, close-on-exec), or -1 with errno set.
    public static func acceptLocal(_ fd: Int32) -> Int32 {
        ps_local_accept(fd)
    }

    /// The pid and uid the kernel recorded for whoever connected `fd` (SO_PEERCRED), or nil.
    public static func peerCredentials(_ fd: Int32) -> (pid: pid_t, uid: uid_t)? {
        var pid: pid_t = 0
        var uid: uid_t = 0
        guard ps_peer_credentials(fd, &pid, &uid) == 0 else { return nil }
        return (pid, uid)
    }

    /// Writes to a socket without raising SIGPIPE if the peer is gone (EPIPE instead): a command-line tool that
    /// does not ignore SIGPIPE must not die silently. Returns the count, or -1 with errno set.
    public static func sendNoSignal(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    }

    /// The person's terminal (`/dev/tty`, the controlling terminal) opened for reading and writing, or -1 with
    /// errno set (ENXIO when the process has no controlling terminal).
    public static func openControllingTerminal() -> Int32 {
        open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
    }
}

/// A socket call failed with this errno.
public struct LocalSocketError: Error, Sendable, Equatable {
    public var errno: Int32
    public init(errno: Int32) { self.errno = errno }
}

extension String {
    fileprivate var trimmingSuffixNewline: String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
