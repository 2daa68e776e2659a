import Platform
import Synchronization

/// Stderr without ever blocking the shim: whole lines are queued (bounded) and written as stderr accepts them.
///
/// A parent that never reads the shim's stderr must not stall the protocol, and a server that floods its
/// stderr must not grow the shim's memory: past the bound, lines are dropped and counted.
final class StandardErrorSink: Sendable {
    static let shared = StandardErrorSink()
    static let limit = 1 << 20

    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
    }

    private let state = Mutex(State())

    /// Queues one line (a newline is added) and writes what stderr takes now.
    func write(_ line: String) {
        state.withLock { state in
            let bytes = Array(line.utf8)
            if state.buffer.count + bytes.count + 1 > Self.limit {
                state.dropped += 1
                return
            }
            state.buffer.append(contentsOf: bytes)
            state.buffer.append(0x0A)
            Self.flush(&state)
        }
    }

    var hasPending: Bool { state.withLock { !$0.buffer.isEmpty || $0.dropped > 0 } }

    /// Writes what stderr takes now, without blocking.
    func flush() { state.withLock { Self.flush(&$0) } }

    /// Waits up to `seconds` for stderr to take everything; for the end of the process.
    func drain(seconds: Double) {
        let deadline = monotonicNow() + nanoseconds(seconds)
        while hasPending && monotonicNow() < deadline {
            flush()
            var descriptor = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, 20)
        }
    }

    private static func flush(_ state: inout State) {
        if state.dropped > 0 && state.buffer.count < limit / 2 {
            state.buffer.append(
                contentsOf:
                    "persona-shim: warning: \(state.dropped) log lines were dropped because stderr was not being read\n"
                    .utf8)
            state.dropped = 0
        }
        var written = 0
        while written < state.buffer.count {
            // Never block, whatever fd 2's flags: write only what poll says fits (a pipe that polls writable
            // takes at least PIPE_BUF bytes at once).
            var descriptor = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
            guard poll(&descriptor, 1, 0) > 0, descriptor.revents & Int16(POLLOUT) != 0 else { break }
            let chunk = min(state.buffer.count - written, Int(PIPE_BUF))
            let result = state.buffer.withUnsafeBytes { raw in
                Platform.write(2, raw.baseAddress! + written, chunk)
            }
            if result > 0 {
                written += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                break  // EAGAIN: the rest waits for the poll loop; any other error: nothing more to do now.
            }
        }
        if written == state.buffer.count {
            state.buffer.removeAll(keepingCapacity: state.buffer.capacity <= 64 * 1024)
        } else if written > 0 {
            state.buffer.removeFirst(written)
        }
    }
}
