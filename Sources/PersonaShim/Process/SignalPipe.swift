import Platform
import Synchronization

/// SIGINT/SIGTERM/SIGHUP/SIGCHLD delivered as bytes on a non-blocking pipe the event loop polls. Also ignores
/// SIGPIPE and SIGXFSZ (writes then fail with EPIPE and EFBIG instead of killing the shim).
///
/// Signal dispositions are process-wide, so there is one instance per process and it is never torn down.
public final class SignalPipe: Sendable {
    /// The end to poll for POLLIN; each byte is one signal number.
    public let readFD: Int32
    private let writeFD: Int32

    private static let shared = Mutex<SignalPipe?>(nil)

    private init(readFD: Int32, writeFD: Int32) {
        self.readFD = readFD
        self.writeFD = writeFD
    }

    /// Installs the handlers once per process; a second call returns the same instance.
    public static func install() throws -> SignalPipe {
        try shared.withLock { (current: inout SignalPipe?) throws(SystemError) -> SignalPipe in
            if let current {
                return current
            }
            // Non-blocking on both ends: the handler must never block, and drain() must stop when empty.
            var fds: [Int32] = [-1, -1]
            guard OS.makePipe(&fds, flags: O_CLOEXEC | O_NONBLOCK) == 0 else {
                throw SystemError(call: "pipe2", errno: errno)
            }
            let code = ps_signal_pipe_install(fds[1])
            guard code == 0 else {
                FD.close(fds[0])
                FD.close(fds[1])
                throw SystemError(call: "sigaction", errno: code)
            }
            let pipe = SignalPipe(readFD: fds[0], writeFD: fds[1])
            current = pipe
            return pipe
        }
    }

    /// Drains pending bytes; returns the signals received (in order, duplicates allowed).
    public func drain() -> [Int32] {
        var signals: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { Platform.read(readFD, $0.baseAddress, $0.count) }
            if count > 0 {
                signals += buffer[..<count].map { Int32($0) }
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return signals
            }
        }
    }
}
