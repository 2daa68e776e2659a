// The client's reading side: blocking read() and memchr, nothing else.

import Platform

/// Splits what a blocking descriptor delivers into newline-terminated lines, in one buffer that grows for long
/// lines (an 8 MiB tool result arrives as one line).
///
/// Kept deliberately small so that the client costs the same, and little, in front of every setup.
final class LineSplitter {
    private let fd: Int32
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// Unconsumed bytes are `start..<end`; `scanned..<end` has not been searched for a newline yet.
    private var start = 0
    private var end = 0
    private var scanned = 0
    /// Compact before reading when less than this is free at the end.
    private static let minimumRead = 64 * 1024

    init(fd: Int32, capacity: Int = 1 << 20) {
        self.fd = fd
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The next line without its newline, valid until the next call; nil at end of input.
    func next() throws(BenchFailure) -> UnsafeRawBufferPointer? {
        while true {
            if scanned < end, let newline = memchr(storage + scanned, 0x0A, end - scanned) {
                let position = storage.distance(to: newline)
                let line = UnsafeRawBufferPointer(start: storage + start, count: position - start)
                start = position + 1
                scanned = start
                return line
            }
            scanned = end
            makeRoom()
            let count = read(fd, storage + end, capacity - end)
            if count == 0 {
                return nil
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchFailure("reading a response failed: \(String(cString: strerror(errno)))")
            }
            end += count
        }
    }

    private func makeRoom() {
        if start == end {
            start = 0
            end = 0
            scanned = 0
        }
        guard capacity - end < Self.minimumRead else { return }
        if start > 0 {
            memmove(storage, storage + start, end - start)
            end -= start
            scanned -= start
            start = 0
        }
        guard capacity - end < Self.minimumRead else { return }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
        bigger.copyMemory(from: storage, byteCount: end)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }
}
