// Blocking newline-delimited I/O over MCPWire's line reader and output buffer, for single-threaded servers.
//
// The shim drives those types from a poll loop on non-blocking descriptors; a server that does nothing else can
// simply wait for its stdin or stdout instead (a parent may still hand it a non-blocking pipe).

import MCPWire
import Platform
import Synchronization

/// Process-level helpers for talking over the standard streams.
package enum StdioIO {
    /// A client that closes our stdout must not kill us with SIGPIPE before we notice EPIPE and leave on our own
    /// terms.
    package static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes `message` plus a newline to stderr, ignoring failures (logs are best effort).
    package static func log(_ message: String) {
        writeFully(fd: 2, Array(message.utf8) + [0x0A])
    }

    /// Writes all of `bytes` to `fd`, waiting while it is full; 0 on success, else the errno of the failed write.
    @discardableResult
    package static func writeFully(fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                do throws(SystemError) {
                    guard let written = try FD.write(fd, UnsafeRawBufferPointer(rebasing: raw[offset...])) else {
                        wait(fd: fd, for: POLLOUT)
                        continue
                    }
                    offset += written
                } catch {
                    return error.errno
                }
            }
            return 0
        }
    }

    static func wait(fd: Int32, for events: Int32) {
        var descriptor = pollfd(fd: fd, events: Int16(events), revents: 0)
        _ = poll(&descriptor, 1, -1)
    }

    /// Whether `range` of `bytes` is only whitespace: some clients send blank lines as keep-alives.
    package static func isBlank(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        bytes[range].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}

/// Reads lines from a descriptor (stdin by default), waiting for input. One thread owns it.
package final class StdioLineReader {
    private let fd: Int32
    /// No cap in practice: tests and benchmarks send arguments of many megabytes, and the shim in front caps lines.
    private let reader = LineReader(limit: 1 << 40)
    private var reachedEnd = false

    package init(fd: Int32 = 0) {
        self.fd = fd
    }

    /// The buffer that line ranges index into, valid until the next `nextLine`.
    package var bytes: UnsafeRawBufferPointer { reader.bytes }

    /// Whether a complete line is already buffered, i.e. `nextLine` will not wait.
    package var hasBufferedLine: Bool { reader.hasCompleteLine }

    /// The next non-empty line (without its newline or a trailing "\r"), waiting for one; nil at end of input,
    /// after a last line without a newline. A read error counts as the end: the client is gone.
    package func nextLine() -> Range<Int>? {
        while true {
            if case .line(let range) = reader.next() { return range }
            if reachedEnd { return nil }
            do {
                switch try reader.fill(from: fd) {
                case .data: continue
                case .wouldBlock: StdioIO.wait(fd: fd, for: POLLIN)
                case .endOfFile: finish()
                }
            } catch {
                finish()
            }
        }
    }

    private func finish() {
        reachedEnd = true
        reader.finishInput()
    }
}

/// Writes whole lines to a descriptor (stdout by default) from any thread; lines never interleave.
///
/// The reading thread may hold output back while more requests are already buffered, so that a pipelined burst costs
/// one write() per batch instead of one per response.
package final class StdioLineWriter: Sendable {
    private let fd: Int32
    private let pending = Mutex(OutputBuffer())
    /// Held-back output beyond this size is written at once, bounding both memory and added latency.
    private static let batchLimit = 1 << 16

    package init(fd: Int32 = 1) {
        self.fd = fd
    }

    /// Sends the concatenation of `parts`, which must end with "\n", after any held-back output.
    ///
    /// With `holdBack`, small output may stay queued until the next `flush()` or unheld send. On EPIPE (the reader
    /// went away) the process exits quietly with status 0.
    package func send(_ parts: [UInt8]..., holdBack: Bool = false) {
        send(parts: parts, holdBack: holdBack)
    }

    package func send(parts: [[UInt8]], holdBack: Bool) {
        pending.withLock { queued in
            if parts.reduce(queued.count, { $0 + $1.count }) <= Self.batchLimit {
                for part in parts { queued.append(part) }
                if !holdBack { drain(queued) }
            } else {
                // Large payloads (the 64 MiB blob) go straight out rather than being copied into the queue.
                drain(queued)
                for part in parts { check(StdioIO.writeFully(fd: fd, part)) }
            }
        }
    }

    /// Writes any held-back output.
    package func flush() {
        pending.withLock { drain($0) }
    }

    private func drain(_ queued: OutputBuffer) {
        do throws(SystemError) {
            while try !queued.flush(to: fd) { StdioIO.wait(fd: fd, for: POLLOUT) }
        } catch {
            check(error.errno)
        }
    }

    private func check(_ error: Int32) {
        guard error != 0 else { return }
        // _exit, not exit: other threads may be mid-write, and there is nothing buffered in stdio worth saving.
        // EPIPE is the normal way a client says goodbye; anything else is worth a line on stderr.
        if error == EPIPE { _exit(0) }
        StdioIO.log("stdout write failed (errno \(error)); exiting")
        _exit(1)
    }
}
