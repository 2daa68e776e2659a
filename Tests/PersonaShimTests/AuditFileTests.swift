import Foundation
import Testing

@testable import PersonaShim

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct AuditFileTests {
    func scratchPath(_ name: String) -> String {
        let folder = NSTemporaryDirectory() + "ps-audit-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/" + name
    }

    func lines(_ path: String) -> [Substring] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// A fragment left by an earlier process stands alone on its line; the next record is whole.
    @Test func aFileEndingMidLineGetsANewlineBeforeTheNextRecord() throws {
        let path = scratchPath("audit.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: Data(#"{"ts":"2026-01-01","ses"#.utf8))
        let log = AuditLog(path: path, fsync: false, session: "s", persona: "p", user: "u")
        try log.record("test.event", [("n", 1)])
        let text = lines(path)
        #expect(text.count == 3)
        #expect(text[0] == #"{"ts":"2026-01-01","ses"#)
        #expect((try? JSONValue(parsing: String(text[1])))?["event"] == "test.event")
        #expect(text[2].isEmpty)
    }

    @Test func aFileEndingWithANewlineIsAppendedToAsItIs() throws {
        let path = scratchPath("audit.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: Data("{}\n".utf8))
        let log = AuditLog(path: path, fsync: true, session: "s", persona: "p", user: "u")
        try log.record("one")
        try log.record("two")
        let text = lines(path)
        #expect(text.count == 4)
        #expect(text[0] == "{}")
        #expect(text[1...2].allSatisfy { (try? JSONValue(parsing: String($0))) != nil })
    }

    @Test func aFIFOWithoutAReaderIsRefusedWithoutBlocking() throws {
        let path = scratchPath("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        let problem = try #require(AuditFile.problem(with: path))
        #expect(problem.contains("FIFO"))
        #expect(problem.contains("regular file"))
        let log = AuditLog(path: path, fsync: false, session: "s", persona: "p", user: "u")
        #expect(throws: AuditError.self) { try log.record("x") }
        #expect(log.lastFailure?.reason.contains("FIFO") == true)
        #expect(!log.wasWritten(1))
    }

    @Test func aFIFOWithAReaderIsRefusedToo() throws {
        let path = scratchPath("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let log = AuditLog(path: path, fsync: false, session: "s", persona: "p", user: "u")
        #expect(throws: AuditError.self) { try log.record("x") }
        #expect(log.lastFailure?.reason.contains("not a regular file") == true)
        var byte: UInt8 = 0
        #expect(read(reader, &byte, 1) <= 0, "nothing reached the FIFO")
    }

    @Test func otherNonRegularPathsAreNamed() throws {
        let folder = scratchPath("x")
        #expect(AuditFile.problem(with: folder) == nil, "a path that does not exist yet is fine")
        #expect(AuditFile.problem(with: "/dev/null")?.contains("character device") == true)
        #expect(AuditFile.problem(with: NSTemporaryDirectory())?.contains("a folder") == true)
    }
}
