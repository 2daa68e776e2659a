import Platform

/// The audit trail's file: only a regular file, opened without ever blocking, and appended to so that every
/// record the shim reports as written is a whole line of its own, even after a write that failed part-way.
///
/// A write that fails part-way (a full disk, `RLIMIT_FSIZE`) leaves the start of a batch at the end of the file.
/// Left there, the next record would be glued onto it and neither would parse. So the fragment is cut off at once
/// (`ftruncate` back to where the write started, when nothing was appended after it), and before any write the
/// file's last byte is checked: a file that does not end with a newline (a fragment that could not be cut, or one
/// left by an earlier process) gets one first, so the fragment stands alone as one unparseable line.
final class AuditFile {
    let path: String
    private(set) var descriptor: Int32 = -1
    /// The file does not end with a newline: the next write starts with one.
    private var endsMidLine = false

    init(path: String) { self.path = path }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Platform.close(descriptor) }
        descriptor = -1
    }

    /// Why `path` cannot hold an audit trail (it exists and is not a regular file), or nil. Looks without opening,
    /// which could block on a FIFO.
    static func problem(with path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        guard !isRegular(info) else { return nil }
        return "the audit path \(path) is \(kind(info)), not a regular file. persona-shim appends its audit trail "
            + "only to a regular file; choose a file path with --audit or the persona's audit.path."
    }

    /// Opens the file if it is not open, creating it (and its folder) owner-only.
    func open() throws(AuditError) {
        if descriptor >= 0 { return }
        if let error = Files.createDirectories(Paths.directory(of: path), mode: 0o700) {
            throw AuditError(path: path, reason: "its folder could not be created (\(error))")
        }
        // O_NONBLOCK: opening a FIFO that nobody reads would otherwise wait forever (ENXIO instead). Read access
        // is for checking the last byte; a file the shim may only write to is appended to without that check.
        let flags = O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
        var readable = true
        var fd = Platform.open(path, O_RDWR | flags, 0o600)
        if fd < 0 && errno == EACCES {
            readable = false
            fd = Platform.open(path, O_WRONLY | flags, 0o600)
        }
        guard fd >= 0 else {
            let code = errno
            if code == ENXIO {
                throw AuditError(path: path, reason: "it is a FIFO or device with no reader, not a regular file")
            }
            throw AuditError(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            Platform.close(fd)
            throw AuditError(path: path, reason: "fstat failed: " + String(cString: strerror(code)))
        }
        guard Self.isRegular(info) else {
            Platform.close(fd)
            throw AuditError(path: path, reason: "it is \(Self.kind(info)), not a regular file")
        }
        let status = fcntl(fd, F_GETFL)
        if status >= 0 { _ = fcntl(fd, F_SETFL, status & ~O_NONBLOCK) }
        descriptor = fd
        endsMidLine = readable && lastByte(size: info.st_size).map { $0 != UInt8(ascii: "\n") } ?? false
    }

    /// Appends `count` bytes from `base` whole, or throws having left no part of them glued to what follows.
    func append(_ base: UnsafeRawPointer, count: Int) throws(AuditError) {
        try open()
        if endsMidLine {
            var newline = UInt8(ascii: "\n")
            if let failure = writeAll(&newline, count: 1).failure { throw fail(failure, written: 0) }
            endsMidLine = false
        }
        let (written, failure) = writeAll(base, count: count)
        if let failure { throw fail(failure, written: written) }
    }

    /// `fdatasync`, for personas that ask for durability.
    func sync() throws(AuditError) {
        if OS.syncData(descriptor) != 0 {
            throw AuditError(path: path, reason: "fsync failed: " + String(cString: strerror(errno)))
        }
    }

    private func writeAll(_ base: UnsafeRawPointer, count: Int) -> (written: Int, failure: Int32?) {
        var offset = 0
        while offset < count {
            let result = Platform.write(descriptor, base + offset, count - offset)
            if result < 0 {
                if errno == EINTR { continue }
                return (offset, errno)
            }
            offset += result
        }
        return (offset, nil)
    }

    /// Removes (or isolates) what a failed write left, closes the file (it is reopened for the next write) and
    /// returns the error.
    private func fail(_ code: Int32, written: Int) -> AuditError {
        if written > 0 { cutFragment(length: written) }
        close()
        let reason = code == EFBIG ? "the file has reached its size limit, EFBIG" : String(cString: strerror(code))
        return AuditError(path: path, reason: reason)
    }

    /// With O_APPEND the fragment ends where the file offset now is. It is cut only while it is still the end of
    /// the file: another session sharing the file may have appended since, and its records must stay.
    private func cutFragment(length: Int) {
        let end = lseek(descriptor, 0, SEEK_CUR)
        var info = stat()
        if end >= length, fstat(descriptor, &info) == 0, info.st_size == end,
            ftruncate(descriptor, end - off_t(length)) == 0
        {
            return
        }
        endsMidLine = true
    }

    private func lastByte(size: off_t) -> UInt8? {
        guard size > 0 else { return nil }
        var byte: UInt8 = 0
        // Unreadable counts as mid-line: a needless blank line is harmless, a glued record is not.
        return pread(descriptor, &byte, 1, size - 1) == 1 ? byte : 0
    }

    private static func isRegular(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }

    private static func kind(_ info: stat) -> String {
        switch info.st_mode & S_IFMT {
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFDIR: "a folder"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }
}
