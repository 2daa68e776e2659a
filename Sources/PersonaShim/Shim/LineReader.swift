#if canImport(Glibc)
    import Glibc
#endif

/// Splits a byte stream into newline-delimited messages, with a cap on the length of one line.
///
/// Lines are handed out as ranges into `bytes` and stay valid until the next `fill`. A line longer than
/// the cap is discarded as it streams in, so memory stays bounded by the cap whatever a peer sends.
/// The buffer is raw memory: growing it is a `realloc`, never a zero-fill or an element-wise copy.
final class LineReader {
    enum Event {
        case line(Range<Int>)
        /// A line over the cap was dropped; `bytes` is how long it was.
        case oversized(bytes: Int)
    }

    enum FillResult { case data, endOfFile, wouldBlock }

    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var discarding = false
    private var discarded = 0
    let limit: Int
    /// The last read returned less than there was room for: the pipe is most likely empty now, so reading again
    /// before the next poll would only cost a system call that answers EAGAIN.
    private(set) var lastReadWasShort = false
    static let chunk = 64 * 1024

    init(limit: Int) {
        self.limit = limit
        self.capacity = Self.chunk
        self.base = malloc(Self.chunk)!
    }

    deinit { free(base) }

    /// The buffered bytes; line ranges index into this.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: end) }

    /// Reads what is available from `fd` (one `read` call).
    func fill(from fd: Int32) throws(SystemError) -> FillResult {
        makeRoom()
        let count = try FD.read(fd, into: UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
        guard let count else { return .wouldBlock }
        if count == 0 { return .endOfFile }
        lastReadWasShort = count < capacity - end
        end += count
        return .data
    }

    /// The next complete line or oversize event, or nil when more input is needed.
    func next() -> Event? {
        while true {
            guard scanned < end, let found = memchr(base + scanned, 0x0A, end - scanned) else {
                scanned = end
                if discarding {
                    discarded += end - start
                    reset()
                } else if end - start > limit {
                    discarding = true
                    discarded = end - start
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
            if newline - lineStart > limit { return .oversized(bytes: newline - lineStart) }
            var lineEnd = newline
            if lineEnd > lineStart && base.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart { continue }
            return .line(lineStart..<lineEnd)
        }
    }

    /// Whether a complete line is buffered and not yet handed out (so reading more can wait).
    var hasCompleteLine: Bool {
        scanned < end ? memchr(base + scanned, 0x0A, end - scanned) != nil : false
    }

    /// At end of input, a last line without a newline still counts: it becomes the next line.
    func finishInput() {
        guard end > start, !discarding else { return }
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
        if start == end {
            reset()
            if capacity > 4 * Self.chunk {
                // Give back what one large message grew.
                free(base)
                base = malloc(Self.chunk)!
                capacity = Self.chunk
            }
        }
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

/// Bytes waiting to be written to a non-blocking descriptor, in raw memory.
final class OutputBuffer {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    private var head = 0
    private var tail = 0

    deinit { free(base) }

    var isEmpty: Bool { head == tail }
    var count: Int { tail - head }

    private func reserve(_ extra: Int) {
        if tail + extra <= capacity { return }
        if head > 0 {
            memmove(base!, base! + head, tail - head)
            tail -= head
            head = 0
            if tail + extra <= capacity { return }
        }
        let wanted = max(capacity * 2, tail + extra, 4096)
        base = realloc(base, wanted)!
        capacity = wanted
    }

    func append(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        reserve(data.count)
        memcpy(base! + tail, data.baseAddress!, data.count)
        tail += data.count
    }

    func append(_ data: [UInt8]) { data.withUnsafeBytes { append($0) } }

    func append(byte: UInt8) {
        reserve(1)
        base!.storeBytes(of: byte, toByteOffset: tail, as: UInt8.self)
        tail += 1
    }

    /// Appends `range` of `bytes` with the given sub-ranges (sorted, non-overlapping) replaced, then a newline:
    /// how a message is forwarded with only its id (and perhaps a name) rewritten.
    func appendLine(
        _ bytes: UnsafeRawBufferPointer, range: Range<Int>, replacing replacements: [(Range<Int>, [UInt8])] = []
    ) {
        var position = range.lowerBound
        for (target, replacement) in replacements {
            append(UnsafeRawBufferPointer(rebasing: bytes[position..<target.lowerBound]))
            append(replacement)
            position = target.upperBound
        }
        append(UnsafeRawBufferPointer(rebasing: bytes[position..<range.upperBound]))
        append(byte: 0x0A)
    }

    /// Sends a line with some ranges replaced, writing straight from `bytes` with `writev` when nothing is queued
    /// before it, and queueing only what the descriptor does not take now. For large messages this saves a copy
    /// of the whole message; small ones are better queued and sent together.
    func sendLine(
        _ bytes: UnsafeRawBufferPointer, range: Range<Int>, replacing replacements: [(Range<Int>, [UInt8])],
        to fd: Int32
    ) throws(SystemError) {
        guard isEmpty, range.count >= 256 * 1024, replacements.count <= 4 else {
            return appendLine(bytes, range: range, replacing: replacements)
        }
        let newline: [UInt8] = [0x0A]
        var written = 0
        var failure: SystemError?
        withReplacements(replacements.map(\.1)) { replacementBytes in
            // The original bytes around each replaced range, with the replacements between them.
            var pieces: [UnsafeRawBufferPointer] = []
            var position = range.lowerBound
            for (index, (target, _)) in replacements.enumerated() {
                pieces.append(UnsafeRawBufferPointer(rebasing: bytes[position..<target.lowerBound]))
                pieces.append(replacementBytes[index])
                position = target.upperBound
            }
            pieces.append(UnsafeRawBufferPointer(rebasing: bytes[position..<range.upperBound]))
            newline.withUnsafeBytes { newlineBytes in
                pieces.append(newlineBytes)
                var vectors = pieces.map {
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count)
                }
                while true {
                    let result = writev(fd, &vectors, Int32(vectors.count))
                    if result >= 0 {
                        written = result
                    } else if errno == EINTR {
                        continue
                    } else if errno != EAGAIN && errno != EWOULDBLOCK {
                        failure = SystemError(call: "writev", errno: errno)
                    }
                    break
                }
                // Queue whatever the descriptor did not take, in order.
                var skip = written
                for piece in pieces {
                    if skip >= piece.count {
                        skip -= piece.count
                        continue
                    }
                    append(UnsafeRawBufferPointer(rebasing: piece[skip...]))
                    skip = 0
                }
            }
        }
        if let failure { throw failure }
    }

    /// Calls `body` with raw pointers to each array, valid for the call.
    private func withReplacements(_ arrays: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) -> Void) {
        func nest(_ index: Int, _ collected: [UnsafeRawBufferPointer]) {
            guard index < arrays.count else { return body(collected) }
            arrays[index].withUnsafeBytes { nest(index + 1, collected + [$0]) }
        }
        nest(0, [])
    }

    /// Writes as much as the descriptor takes. Returns true when everything was written.
    /// Throws the write error (EPIPE when the reader is gone).
    func flush(to fd: Int32) throws(SystemError) -> Bool {
        while head < tail {
            guard let written = try FD.write(fd, UnsafeRawBufferPointer(start: base! + head, count: tail - head)) else {
                return false
            }
            head += written
        }
        head = 0
        tail = 0
        if capacity > 1 << 20 {
            free(base)
            base = nil
            capacity = 0
        }
        return true
    }

    func discardAll() {
        head = 0
        tail = 0
    }
}
