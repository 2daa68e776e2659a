#if canImport(Glibc)
    import Glibc
#endif

/// Splits a byte stream into newline-delimited messages, with a cap on the length of one line.
///
/// Lines are handed out as ranges into `storage` and stay valid until the next `fill`. A line longer than
/// the cap is discarded as it streams in, so memory stays bounded by the cap whatever a peer sends.
final class LineReader {
    enum Event {
        case line(Range<Int>)
        /// A line over the cap was dropped; `bytes` is how long it was.
        case oversized(bytes: Int)
    }

    enum FillResult { case data, endOfFile, wouldBlock }

    private(set) var storage: [UInt8]
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var discarding = false
    private var discarded = 0
    private var pendingOversize: Int?
    let limit: Int
    static let chunk = 64 * 1024

    init(limit: Int) {
        self.limit = limit
        self.storage = [UInt8](repeating: 0, count: Self.chunk)
    }

    /// Reads what is available from `fd` (one `read` call).
    func fill(from fd: Int32) throws -> FillResult {
        makeRoom()
        let count = try storage.withUnsafeMutableBytes { raw in
            try FD.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        guard let count else { return .wouldBlock }
        if count == 0 { return .endOfFile }
        end += count
        return .data
    }

    /// The next complete line or oversize event, or nil when more input is needed.
    func next() -> Event? {
        if let bytes = pendingOversize {
            pendingOversize = nil
            return .oversized(bytes: bytes)
        }
        while true {
            let newline: Int? = storage.withUnsafeBytes { raw in
                guard scanned < end, let found = memchr(raw.baseAddress! + scanned, 0x0A, end - scanned) else {
                    return nil
                }
                return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
            }
            guard let newline else {
                scanned = end
                if discarding {
                    discarded += end - start
                    start = 0
                    end = 0
                    scanned = 0
                } else if end - start > limit {
                    discarding = true
                    discarded = end - start
                    start = 0
                    end = 0
                    scanned = 0
                }
                return nil
            }
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
            if lineEnd > lineStart && storage[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart { continue }
            return .line(lineStart..<lineEnd)
        }
    }

    /// Bytes held that do not yet form a complete line.
    var bufferedCount: Int { end - start }

    private func makeRoom() {
        if start == end {
            start = 0
            end = 0
            scanned = 0
            if storage.count > 4 * Self.chunk { storage = [UInt8](repeating: 0, count: Self.chunk) }
        }
        if storage.count - end >= Self.chunk / 2 { return }
        if start > 0 {
            let live = end - start
            storage.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, live)
            }
            scanned -= start
            end = live
            start = 0
            if storage.count - end >= Self.chunk / 2 { return }
        }
        let wanted = min(max(storage.count * 2, end + Self.chunk), limit + 2 * Self.chunk)
        if wanted > storage.count {
            storage.append(contentsOf: repeatElement(0, count: wanted - storage.count))
        }
    }
}

/// Bytes waiting to be written to a non-blocking descriptor.
final class OutputBuffer {
    private(set) var bytes: [UInt8] = []
    private var head = 0

    var isEmpty: Bool { head == bytes.count }
    var count: Int { bytes.count - head }

    func append(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    func append(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }

    /// Appends through a closure that writes straight into the buffer (avoids a temporary array).
    func append(_ body: (inout [UInt8]) -> Void) { body(&bytes) }

    /// Writes as much as the descriptor takes. Returns true when everything was written.
    /// Throws the write error (EPIPE when the reader is gone).
    func flush(to fd: Int32) throws -> Bool {
        while head < bytes.count {
            let written = try bytes.withUnsafeBytes { raw in
                try FD.write(fd, UnsafeRawBufferPointer(rebasing: raw[head...]))
            }
            guard let written else { break }
            head += written
        }
        if head == bytes.count {
            // Keep a small buffer for reuse, but give back what a large message grew.
            if bytes.capacity > 1 << 20 { bytes = [] } else { bytes.removeAll(keepingCapacity: true) }
            head = 0
            return true
        }
        if head > 1 << 20 && head > bytes.count / 2 {
            bytes.removeFirst(head)
            head = 0
        }
        return false
    }

    func discardAll() {
        bytes = []
        head = 0
    }
}
