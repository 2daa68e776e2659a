// Newline-delimited message I/O over raw file descriptors.
//
// FileHandle and readLine() buffer in ways that hide partial reads and make pipelined throughput unpredictable, so
// the servers talk to fds 0 and 1 with read()/write() directly.

import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-level helpers for talking over the standard streams.
package enum StdioIO {
    /// Standard-stream set-up shared by every server: a client that closes our stdout must not kill us with SIGPIPE
    /// before we notice EPIPE and leave on our own terms.
    package static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes `message` plus a newline to stderr, ignoring failures (logs are best effort).
    package static func log(_ message: String) {
        var bytes = Array(message.utf8)
        bytes.append(0x0A)
        _ = writeFully(fd: 2, bytes)
    }

    /// Writes all of `bytes` to `fd`, retrying on EINTR, partial writes and EAGAIN.
    ///
    /// Returns 0 on success, else the errno of the failed write.
    @discardableResult
    package static func writeFully(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard var pointer = bytes.baseAddress else { return 0 }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(fd, pointer, remaining)
            if written >= 0 {
                pointer += written
                remaining -= written
                continue
            }
            let error = errno
            if error == EINTR { continue }
            // A parent may hand us a non-blocking pipe; wait for room instead of spinning or failing.
            if error == EAGAIN || error == EWOULDBLOCK {
                waitForReadiness(fd: fd, events: Int16(POLLOUT))
                continue
            }
            return error
        }
        return 0
    }

    @discardableResult
    package static func writeFully(fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { writeFully(fd: fd, $0) }
    }
}

private func waitForReadiness(fd: Int32, events: Int16) {
    var descriptor = pollfd(fd: fd, events: events, revents: 0)
    _ = poll(&descriptor, 1, -1)
}

/// Blocking reader of newline-terminated lines from a file descriptor (stdin by default).
///
/// Not thread-safe: one thread owns the input side of a server.
package final class StdioLineReader {
    private let fd: Int32
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Unconsumed bytes are storage[head..<tail].
    private var head = 0
    private var tail = 0
    /// No newline exists in storage[head..<searchedUpTo]; saves rescanning a long line on every read.
    private var searchedUpTo = 0
    private var reachedEOF = false

    package init(fd: Int32 = 0, initialCapacity: Int = 1 << 16) {
        self.fd = fd
        self.capacity = max(initialCapacity, 16)
        self.storage = .allocate(capacity: self.capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// Whether a complete line is already buffered, i.e. `nextLine` will not block.
    package var hasBufferedLine: Bool {
        findNewline() != nil
    }

    /// Calls `body` with the next line (without its "\n" or a trailing "\r"), blocking until one is available.
    ///
    /// Returns nil at end of input; a final line without a newline is still delivered first. The buffer passed to
    /// `body` is only valid during the call.
    package func nextLine<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        while true {
            if let newline = findNewline() {
                let start = head
                head = newline + 1
                searchedUpTo = head
                var end = newline
                if end > start && storage[end - 1] == 0x0D { end -= 1 }
                return try body(UnsafeBufferPointer(start: storage + start, count: end - start))
            }
            if reachedEOF {
                guard tail > head else { return nil }
                let start = head
                head = tail
                searchedUpTo = tail
                return try body(UnsafeBufferPointer(start: storage + start, count: tail - start))
            }
            fill()
        }
    }

    private func findNewline() -> Int? {
        let from = max(head, searchedUpTo)
        guard tail > from, let found = memchr(storage + from, 0x0A, tail - from) else {
            searchedUpTo = tail
            return nil
        }
        // Remember the hit so that hasBufferedLine followed by nextLine searches only once.
        searchedUpTo = storage.distance(to: found.assumingMemoryBound(to: UInt8.self))
        return searchedUpTo
    }

    /// Reads at least one more byte into the buffer, or sets `reachedEOF`.
    private func fill() {
        makeRoom()
        while true {
            let count = read(fd, storage + tail, capacity - tail)
            if count > 0 {
                tail += count
                return
            }
            if count == 0 {
                reachedEOF = true
                return
            }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK {
                waitForReadiness(fd: fd, events: Int16(POLLIN))
                continue
            }
            // Any other read error means the input is unusable; treat it like the client going away.
            reachedEOF = true
            return
        }
    }

    private func makeRoom() {
        if head == tail {
            head = 0
            tail = 0
            searchedUpTo = 0
        }
        guard tail == capacity else { return }
        let pending = tail - head
        if head > 0 && pending <= capacity / 2 {
            // Plenty of space once consumed bytes are dropped: slide the partial line to the front.
            memmove(storage, storage + head, pending)
        } else {
            let newCapacity = capacity * 2
            let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newStorage.initialize(from: storage + head, count: pending)
            storage.deallocate()
            storage = newStorage
            capacity = newCapacity
        }
        searchedUpTo -= head
        tail = pending
        head = 0
    }
}

/// Thread-safe writer of whole lines to a file descriptor (stdout by default).
///
/// Lines from different threads never interleave. The reading thread may ask for output to be held back while more
/// requests are already buffered, so that a pipelined burst costs one write() per batch instead of one per response.
package final class StdioLineWriter: Sendable {
    private let fd: Int32
    private let pending = Mutex<[UInt8]>([])
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
            let size = parts.reduce(queued.count) { $0 + $1.count }
            if size <= Self.batchLimit {
                for part in parts { queued.append(contentsOf: part) }
                if !holdBack { drain(&queued) }
            } else {
                // Large payloads (the 64 MiB blob) go straight out rather than being copied into the queue.
                drain(&queued)
                for part in parts { check(StdioIO.writeFully(fd: fd, part)) }
            }
        }
    }

    /// Writes any held-back output.
    package func flush() {
        pending.withLock { drain(&$0) }
    }

    private func drain(_ queued: inout [UInt8]) {
        guard !queued.isEmpty else { return }
        check(StdioIO.writeFully(fd: fd, queued))
        queued.removeAll(keepingCapacity: true)
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
