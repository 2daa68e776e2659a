import Foundation
import Testing

@testable import PersonaShim

#if canImport(Glibc)
    import Glibc
#endif

/// A pipe whose write end is non-blocking, as the session's descriptors are.
private final class TestPipe: Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        readFD = fds[0]
        writeFD = fds[1]
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Everything readable now.
    func drain() -> [UInt8] {
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            guard count > 0 else { return collected }
            collected += chunk[0..<count]
        }
    }
}

/// Writes `bytes` (one line, larger than a pipe holds) into `pipe` from another thread and reads it into `reader`.
private func readLine(_ bytes: [UInt8], through pipe: TestPipe, into reader: LineReader) throws -> Range<Int> {
    let target = pipe.writeFD
    let writer = Thread {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(target, $0.baseAddress, $0.count) }
            if written > 0 { offset += written } else { usleep(1000) }
        }
    }
    writer.start()
    while true {
        if case .wouldBlock = try reader.fill(from: pipe.readFD) { usleep(1000) }
        if case .line(let range)? = reader.next() { return range }
    }
}

@Suite struct OutputBufferTests {
    @Test func withdrawTakesBackOnlyTheNamedBytes() throws {
        let buffer = OutputBuffer()
        var ranges: [Range<Int>] = []
        for index in 0..<6 {
            let start = buffer.queuedTotal
            buffer.append(Array("line \(index)\n".utf8))
            if index % 2 == 0 { ranges.append(start..<buffer.queuedTotal) }
        }
        buffer.withdraw(ranges)
        let pipe = try TestPipe()
        #expect(try buffer.flush(to: pipe.writeFD))
        #expect(String(decoding: pipe.drain(), as: UTF8.self) == "line 1\nline 3\nline 5\n")
    }

    @Test func bytesAlreadyWrittenCannotBeWithdrawn() throws {
        let buffer = OutputBuffer()
        buffer.append(Array("first\n".utf8))
        let pipe = try TestPipe()
        #expect(try buffer.flush(to: pipe.writeFD))
        let start = buffer.queuedTotal
        buffer.append(Array("second\n".utf8))
        buffer.withdraw([0..<6, start..<buffer.queuedTotal])
        #expect(buffer.isEmpty)
        #expect(String(decoding: pipe.drain(), as: UTF8.self) == "first\n")
    }

    @Test func aLargeLineIsSentFromTheReaderAndLaterBytesFollowIt() throws {
        // A line larger than the pipe holds: the rest stays in the reader, which reads nothing until it is written.
        let source = try TestPipe()
        let reader = LineReader(limit: 1 << 24)
        let body = #"{"jsonrpc":"2.0","id":7,"result":{"text":""# + String(repeating: "x", count: 300_000) + #""}}"#
        let range = try readLine(Array((body + "\n").utf8), through: source, into: reader)
        let idRange = try #require(MessageEnvelope.scan(reader.bytes, range: range).id)
        let sink = try TestPipe()
        let output = OutputBuffer()
        output.sendLine(from: reader, range: range, replacing: [(idRange, Array(#""agent-7""#.utf8))])
        #expect(reader.isLent)
        #expect(try reader.fill(from: source.readFD) == .wouldBlock)
        output.append(Array("after\n".utf8))
        var received: [UInt8] = []
        while !output.isEmpty {
            _ = try output.flush(to: sink.writeFD)
            received += sink.drain()
        }
        received += sink.drain()
        #expect(!reader.isLent)
        let expected = body.replacingOccurrences(of: #""id":7"#, with: #""id":"agent-7""#) + "\nafter\n"
        #expect(received.count == expected.utf8.count)
        #expect(String(decoding: received, as: UTF8.self) == expected)
    }

    @Test func aLargeLineWithAnInsertionIsWrittenInOrderWhateverItsAlignment() throws {
        // The lent line is written in page-aligned pieces; varied text shows any piece out of place or repeated.
        let text = (0..<120_000).map { String($0 % 977) }.joined(separator: ".")
        for padding in [0, 1, 24, 63] {
            let source = try TestPipe()
            let reader = LineReader(limit: 1 << 24)
            let body =
                #"{"jsonrpc":"2.0","id":7,"result":{"text":""# + String(repeating: "p", count: padding) + text + #""}}"#
            let range = try readLine(Array((body + "\n").utf8), through: source, into: reader)
            let envelope = try MessageEnvelope.scan(reader.bytes, range: range)
            let idRange = try #require(envelope.id)
            let result = try #require(envelope.result)
            let sink = try TestPipe()
            let output = OutputBuffer()
            output.sendLine(
                from: reader, range: range,
                replacing: [
                    (idRange, Array("12".utf8)),
                    (result.lowerBound..<result.lowerBound + 1, Array(#"{"resultType":"complete","#.utf8)),
                ])
            #expect(reader.isLent)
            var received: [UInt8] = []
            while !output.isEmpty {
                _ = try output.flush(to: sink.writeFD)
                received += sink.drain()
            }
            received += sink.drain()
            let expected =
                body.replacingOccurrences(of: #""id":7"#, with: #""id":12"#)
                .replacingOccurrences(of: #""result":{"#, with: #""result":{"resultType":"complete","#) + "\n"
            #expect(received.count == expected.utf8.count)
            #expect(received.elementsEqual(expected.utf8), "padding \(padding)")
        }
    }

    @Test func aReaderKeepsItsGrownBufferUntilTrimmed() throws {
        let source = try TestPipe()
        let reader = LineReader(limit: 1 << 24)
        #expect(!reader.holdsSpareMemory)
        let line = try readLine(
            Array(String(repeating: "y", count: 600_000).utf8) + [0x0A], through: source, into: reader)
        #expect(line.count == 600_000)
        #expect(reader.holdsSpareMemory, "the buffer grown for the line is kept while empty")
        reader.trim()
        #expect(reader.holdsSpareMemory, "a buffer used since the last trim period is kept one more")
        reader.trim()
        #expect(!reader.holdsSpareMemory)
    }
}

@Suite struct AuditLogTests {
    @Test func integersAndDurationsAreWrittenExactly() {
        let bytes = AuditFields.encode { fields in
            fields.add("a", integer: 0)
            fields.add("b", integer: -42)
            fields.add("c", integer: Int.max)
            fields.add("d", millisecondsFromNanoseconds: 12_345_678)
            fields.add("e", millisecondsFromNanoseconds: 999)
            fields.add("f", millisecondsFromNanoseconds: 3_000_000_000)
            fields.add("g", integer: Int.min + 1)
            fields.add("h", "tab\tquote\"back\\slash\u{1}é")
            fields.add(named: "k\"ey", ["x": [1, "y"]])
            fields.add("i", integer: 10)
            fields.add("j", integer: 1_000_000)
        }
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #","a":0,"b":-42,"c":9223372036854775807,"d":12.346,"e":0.001,"f":3000.000,"#
                + #""g":-9223372036854775807,"h":"tab\tquote\"back\\slash\u0001é","k\"ey":{"x":[1,"y"]},"#
                + #""i":10,"j":1000000"#)
    }

    @Test func stagedRecordsAreWrittenInOrderWithTheNextFlush() throws {
        let folder = NSTemporaryDirectory() + "audit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let log = AuditLog(path: folder + "/audit.jsonl", fsync: false, session: "s", persona: "p", user: "u")
        let first = log.stage("one") { $0.add("k", "v\"quoted\"") }
        let second = log.stage("two") { $0.add("n", integer: 2) }
        #expect(!log.wasWritten(first))
        try log.flush()
        #expect(log.wasWritten(first) && log.wasWritten(second))
        let lines = try String(contentsOfFile: folder + "/audit.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONValue(parsing: String($0)) }
        #expect(records.map { $0["seq"] } == [1, 2])
        #expect(records[0]["k"] == #"v"quoted""#)
        #expect(records[1]["event"] == "two" && records[1]["n"] == 2)
    }

    @Test func recordsOfAFailedWriteAreDroppedNotWrittenLater() throws {
        let log = AuditLog(path: "/dev/full", fsync: false, session: "s", persona: "p", user: "u")
        let lost = log.stage("lost") { _ in }
        #expect(throws: AuditError.self) { try log.flush() }
        #expect(!log.wasWritten(lost))
        #expect(log.lastFailure?.reason.isEmpty == false)
        #expect(!log.hasPending)
    }
}
