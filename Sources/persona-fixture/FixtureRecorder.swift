// `--record FILE`: every line the fixture receives, appended to FILE as it arrives.

import PersonaShimExamples
import Platform

/// Appends each received line, byte for byte (without its newline or a trailing "\r", which the line reader drops),
/// so that tests can prove what reached the server: nothing the shim refused, and the checked bytes unchanged.
///
/// A line is written before it is handled, so it is on file before its answer leaves. A recording that cannot be
/// written ends the fixture: a test reading a silently incomplete file would conclude that refused calls never
/// arrived.
final class FixtureRecorder {
    private let fd: Int32

    init(path: String) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            StdioIO.log("persona-fixture: cannot open the recording \(path): \(String(cString: strerror(errno)))")
            exit(1)
        }
    }

    func record(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) {
        // One write per line (O_APPEND): two fixtures sharing a file never interleave within a line.
        var data = Array(bytes[line])
        data.append(0x0A)
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                StdioIO.log("persona-fixture: cannot write the recording: \(String(cString: strerror(errno)))")
                exit(1)
            }
            offset += written
        }
    }
}
