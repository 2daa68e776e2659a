import Platform

/// Splits a byte stream into newline-delimited messages, with a cap on the length of one line.
///
/// Lines are handed out as ranges into `bytes` and stay valid until the next `fill`. A line longer than
/// the cap is discarded as it streams in, so memory stays bounded by the cap whatever a peer sends.
/// The buffer is raw memory: growing it is a `realloc`, never a zero-fill or an element-wise copy.
package final class LineReader {
    package enum Event {
        case line(Range<Int>)
        /// A line over the cap was dropped; `bytes` is how long it was.
        case oversized(bytes: Int)
    }

    package enum FillResult { case data, endOfFile, wouldBlock }

    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var discarding = false
    private var discarded = 0
    package let limit: Int
    /// The last read returned less than there was room for: the pipe is most likely empty now, so reading again
    /// before the next poll would only cost a system call that answers EAGAIN.
    package var lastReadWasShort: Bool { readWasShort }
    // Flags and counters other modules read are stored privately behind a getter: a stored property visible outside
    // the module gets a run-time exclusivity check on every access, which the hot path would pay per message.
    private var readWasShort = false
    package static let chunk = 64 * 1024

    package init(limit: Int) {
        self.limit = limit
        self.capacity = Self.chunk
        self.base = malloc(Self.chunk)!
    }

    deinit { free(base) }

    /// The buffered bytes; line ranges index into this.
    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: end) }

    /// Set while an `OutputBuffer` still writes a message straight out of this buffer: reading more could move or
    /// overwrite it, so `fill` reads nothing until it is given back.
    package var isLent: Bool { lentOut }
    private var lentOut = false

    package func lend() { lentOut = true }
    package func giveBack() { lentOut = false }

    /// Whether the buffer is empty but still as large as an earlier big message made it (see `trim`).
    package var holdsSpareMemory: Bool { start == end && capacity > 4 * Self.chunk && !isLent }

    /// Whether the buffer held more than small messages need since the last `trim` call.
    private var grewSinceTrim = false

    /// Gives back what a large message grew, once a whole trim period has passed without another large one: the
    /// session calls it periodically (small messages alone do not keep the memory). A server that answers with one large result often sends another, and a kept buffer takes it
    /// without first faulting in and zeroing every page again.
    package func trim() {
        defer { grewSinceTrim = false }
        guard holdsSpareMemory, !grewSinceTrim else { return }
        free(base)
        base = malloc(Self.chunk)!
        capacity = Self.chunk
        reset()
    }

    /// Reads what is available from `fd` (one `read` call).
    package func fill(from fd: Int32) throws(SystemError) -> FillResult {
        if isLent { return .wouldBlock }
        makeRoom()
        let count = try FD.read(fd, into: UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
        guard let count else { return .wouldBlock }
        if count == 0 { return .endOfFile }
        readWasShort = count < capacity - end
        end += count
        if end > 4 * Self.chunk { grewSinceTrim = true }
        return .data
    }

    /// Appends bytes that arrived some other way than a descriptor: an in-process peer, such as a test that drives
    /// the session core. Lines longer than the buffer can grow to are not for this path.
    package func feed(_ data: [UInt8]) {
        var offset = 0
        while offset < data.count && !isLent {
            makeRoom()
            let count = min(capacity - end, data.count - offset)
            data.withUnsafeBytes { memcpy(base + end, $0.baseAddress! + offset, count) }
            end += count
            offset += count
        }
    }

    /// The next complete line or oversize event, or nil when more input is needed.
    package func next() -> Event? {
        while true {
            guard scanned < end, let found = memchr(base + scanned, 0x0A, end - scanned) else {
                scanned = end
                if discarding {
                    discarded += end - start
                    reset()
                } else if end - start > limit {
                    discarding = true
                    discarded = end - start
                    keepPrefix(of: start..<end)
                    reset()
                }
                return nil
            }
            let newline = base.distance(to: found)
            let lineStart = start
            start = newline + 1
            scanned = start
            if discarding {
                discarding = false
                let total = discarded + (newline - lineStart)
                discarded = 0
                return .oversized(bytes: total)
            }
            if newline - lineStart > limit {
                keepPrefix(of: lineStart..<newline)
                return .oversized(bytes: newline - lineStart)
            }
            var lineEnd = newline
            if lineEnd > lineStart && base.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart { continue }
            return .line(lineStart..<lineEnd)
        }
    }

    /// The first bytes of the last line discarded as too long: enough to read the id of a message whose
    /// envelope starts with it, so its sender can still be answered.
    package private(set) var discardedPrefix: [UInt8] = []
    static let prefixKept = 4096

    private func keepPrefix(of range: Range<Int>) {
        let count = min(range.count, Self.prefixKept)
        discardedPrefix = Array(UnsafeRawBufferPointer(start: base + range.lowerBound, count: count))
    }

    /// Whether a complete line is buffered and not yet handed out (so reading more can wait).
    package var hasCompleteLine: Bool {
        scanned < end ? memchr(base + scanned, 0x0A, end - scanned) != nil : false
    }

    /// At end of input, a last line without a newline still counts: it becomes the next line.
    package func finishInput() {
        guard end > start, !discarding, !isLent else { return }
        makeRoom()
        if capacity == end {
            base = realloc(base, capacity + 1)!
            capacity += 1
        }
        base.storeBytes(of: 0x0A, toByteOffset: end, as: UInt8.self)
        end += 1
    }

    private func reset() {
        start = 0
        end = 0
        scanned = 0
    }

    private func makeRoom() {
        if start == end { reset() }
        if capacity - end >= Self.chunk / 2 { return }
        if start > 0 {
            let live = end - start
            memmove(base, base + start, live)
            scanned -= start
            end = live
            start = 0
            if capacity - end >= Self.chunk / 2 { return }
        }
        let wanted = min(max(capacity * 2, end + Self.chunk), limit + 2 * Self.chunk)
        if wanted > capacity {
            base = realloc(base, wanted)!
            capacity = wanted
        }
    }
}
