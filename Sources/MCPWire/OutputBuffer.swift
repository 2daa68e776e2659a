import Platform

/// Bytes waiting to be written to a non-blocking descriptor: perhaps the rest of one large message still in the
/// `LineReader` it arrived in, then bytes of its own in raw memory.
package final class OutputBuffer {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    private var head = 0
    private var tail = 0
    /// The unwritten rest of a large message sent by `sendLine`, written before the owned bytes.
    private var lent: LentMessage?
    /// How many bytes were ever queued here (less any withdrawn): a position in this stream names a queued byte
    /// for `withdraw`, however the buffer moved since.
    package var queuedTotal: Int { queued }
    private var queued = 0

    /// Pieces of a message that live in a lender's buffer, plus a small copy of the bytes that replaced parts of it.
    private struct LentMessage {
        let lender: LineReader
        let replacements: UnsafeMutableRawPointer
        var pieces: [UnsafeRawBufferPointer]
        var remaining: Int
    }

    package init() {}

    deinit {
        giveBackLent()
        free(base)
    }

    package var isEmpty: Bool { head == tail && lent == nil }
    package var count: Int { tail - head + (lent?.remaining ?? 0) }

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

    package func append(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        reserve(data.count)
        memcpy(base! + tail, data.baseAddress!, data.count)
        tail += data.count
        queued += data.count
    }

    package func append(_ data: [UInt8]) { data.withUnsafeBytes { append($0) } }

    package func append(byte: UInt8) {
        reserve(1)
        base!.storeBytes(of: byte, toByteOffset: tail, as: UInt8.self)
        tail += 1
        queued += 1
    }

    /// Takes back bytes queued but not yet written: `ranges` are positions in the `queuedTotal` stream, sorted
    /// and disjoint. Bytes already written or discarded are out of reach and skipped.
    package func withdraw(_ ranges: [Range<Int>]) {
        let headPosition = queuedTotal - (tail - head)
        let ranges = ranges.filter { $0.lowerBound >= headPosition && $0.upperBound <= queuedTotal }
        guard let base, !ranges.isEmpty else { return }
        var removed = 0
        for (index, range) in ranges.enumerated() {
            let keptFrom = head + (range.upperBound - headPosition)
            let keptTo = index + 1 < ranges.count ? head + (ranges[index + 1].lowerBound - headPosition) : tail
            memmove(base + head + (range.lowerBound - headPosition) - removed, base + keptFrom, keptTo - keptFrom)
            removed += range.count
        }
        tail -= removed
        queued -= removed
    }

    /// Appends `range` of `bytes` with the given sub-ranges (sorted, non-overlapping) replaced, then a newline:
    /// how a message is forwarded with only its id (and perhaps a name) rewritten.
    package func appendLine(
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

    /// Queues a line of `reader`'s buffer with some ranges replaced. A large line, when nothing is queued before
    /// it, is not copied: the reader is lent to this buffer (it reads nothing more) until `flush` has written the
    /// line with `writev` straight from it. Small lines are better copied and sent together.
    package func sendLine(from reader: LineReader, range: Range<Int>, replacing replacements: [(Range<Int>, [UInt8])]) {
        let bytes = reader.bytes
        guard isEmpty, range.count >= 256 * 1024 else {
            return appendLine(bytes, range: range, replacing: replacements)
        }
        // One small allocation holds the replacement bytes and the closing newline for as long as the pieces do.
        let replacementBytes = replacements.reduce(1) { $0 + $1.1.count }
        let storage = malloc(replacementBytes)!
        var pieces: [UnsafeRawBufferPointer] = []
        pieces.reserveCapacity(2 * replacements.count + 2)
        var position = range.lowerBound
        var offset = 0
        for (target, replacement) in replacements {
            pieces.append(UnsafeRawBufferPointer(rebasing: bytes[position..<target.lowerBound]))
            replacement.withUnsafeBytes {
                if let source = $0.baseAddress { memcpy(storage + offset, source, $0.count) }
            }
            pieces.append(UnsafeRawBufferPointer(start: storage + offset, count: replacement.count))
            offset += replacement.count
            position = target.upperBound
        }
        pieces.append(UnsafeRawBufferPointer(rebasing: bytes[position..<range.upperBound]))
        storage.storeBytes(of: 0x0A, toByteOffset: offset, as: UInt8.self)
        pieces.append(UnsafeRawBufferPointer(start: storage + offset, count: 1))
        reader.lend()
        lent = LentMessage(
            lender: reader, replacements: storage, pieces: pieces.filter { $0.count > 0 },
            remaining: pieces.reduce(0) { $0 + $1.count })
    }

    /// Writes what the descriptor takes of the lent message; true once all of it is written.
    private func flushLent(to fd: Int32) throws(SystemError) -> Bool {
        guard var message = lent else { return true }
        while message.remaining > 0 {
            var vectors = Self.pageAlignedVectors(message.pieces)
            let result = writev(fd, &vectors, Int32(vectors.count))
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    lent = message
                    return false
                }
                let failure = SystemError(call: "writev", errno: errno)
                giveBackLent()
                throw failure
            }
            message.remaining -= result
            var skip = result
            while skip > 0 {
                let first = message.pieces[0]
                if skip >= first.count {
                    skip -= first.count
                    message.pieces.removeFirst()
                } else {
                    message.pieces[0] = UnsafeRawBufferPointer(rebasing: first[skip...])
                    skip = 0
                }
            }
        }
        lent = message
        giveBackLent()
        return true
    }

    /// The vectors for one `writev` of a lent message. A pipe copies each write into fresh pages, so the large
    /// piece is written from a page-aligned address in whole pages, on its own: copied at another offset than
    /// the page it lands in, the kernel moves those bytes markedly slower (a 2026-07-28 agent's 8 MiB result,
    /// shifted by its inserted `resultType`, took 1.3× the time of a legacy agent's before this).
    private static func pageAlignedVectors(_ pieces: [UnsafeRawBufferPointer]) -> [iovec] {
        let page = 4096
        var vectors: [iovec] = []
        vectors.reserveCapacity(min(pieces.count, 64))
        for piece in pieces.prefix(64) {
            var count = piece.count
            if count >= 16 * page, let base = piece.baseAddress {
                let misalignment = Int(bitPattern: base) % page
                if misalignment != 0 {
                    count = page - misalignment
                } else if vectors.isEmpty {
                    count -= count % page
                } else {
                    break
                }
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: count))
                break
            }
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress), iov_len: count))
        }
        return vectors
    }

    private func giveBackLent() {
        guard let message = lent else { return }
        lent = nil
        message.lender.giveBack()
        free(message.replacements)
    }

    /// Writes as much as the descriptor takes. Returns true when everything was written.
    /// Throws the write error (EPIPE when the reader is gone).
    package func flush(to fd: Int32) throws(SystemError) -> Bool {
        guard try flushLent(to: fd) else { return false }
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

    /// Takes out everything queued at once, as an in-process peer (such as a test driving the core) reads it.
    package func takeAll() -> [UInt8] {
        var out: [UInt8] = []
        if let message = lent {
            for piece in message.pieces { out.append(contentsOf: piece) }
            giveBackLent()
        }
        if let base, head < tail {
            out.append(contentsOf: UnsafeRawBufferPointer(start: base + head, count: tail - head))
        }
        head = 0
        tail = 0
        return out
    }

    package func discardAll() {
        giveBackLent()
        head = 0
        tail = 0
    }
}
