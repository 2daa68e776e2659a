import Platform

/// A failed system call.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed, e.g. "write".
    public let call: String
    /// Its errno.
    public let errno: Int32

    /// Creates an error for `call` failing with `errno`.
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// E.g. "write failed: Broken pipe (EPIPE)."
    public var description: String {
        let reason = String(cString: strerror(errno))
        let name = OS.errnoName(errno) ?? "errno \(errno)"
        return "\(call) failed: \(reason) (\(name))."
    }
}

/// Small fd helpers used by the event loop.
public enum FD {
    /// Sets O_NONBLOCK, keeping the other status flags.
    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { throw SystemError(call: "fcntl(F_GETFL)", errno: errno) }
        guard flags & O_NONBLOCK == 0 else { return }
        guard fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw SystemError(call: "fcntl(F_SETFL)", errno: errno)
        }
    }

    /// Closes `fd`, ignoring EINTR and EBADF.
    ///
    /// Never retried: Linux releases the descriptor even when close reports EINTR, so a retry could close a
    /// descriptor another thread has just been given.
    public static func close(_ fd: Int32) {
        guard fd >= 0 else { return }
        _ = Platform.close(fd)
    }

    /// One read(2) into the buffer: returns bytes read, 0 on EOF, nil on EAGAIN; retries EINTR; throws on other
    /// errors.
    ///
    /// An empty buffer also reads 0, so pass a non-empty one.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let count = Platform.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 {
                return count
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemError(call: "read", errno: code)
            }
        }
    }

    /// One write(2): returns bytes written, nil on EAGAIN; retries EINTR; throws (with errno, EPIPE included) on
    /// other errors.
    ///
    /// EPIPE arrives as an error only once SIGPIPE is ignored, which `SignalPipe.install()` does.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let count = Platform.write(fd, bytes.baseAddress, bytes.count)
            if count >= 0 {
                return count
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw SystemError(call: "write", errno: code)
            }
        }
    }
}
