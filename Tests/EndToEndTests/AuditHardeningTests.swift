import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// The audit trail stays parseable line by line whatever happens to the file, and odd paths never hang.
    @Suite struct AuditHardening {
        @Test func aFIFOAuditPathIsRefusedAtOnce() throws {
            let scratch = Scratch()
            let persona = scratch.write("persona.json", personaJSON(servers: [("fx", fixture())], allow: ["fx__echo"]))
            let fifo = scratch.path + "/audit.fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            let started = Date()
            let result = try runShim(["run", "--persona", persona, "--audit", fifo])
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(result.status == .exited(65))
            #expect(result.stderr.contains("is a FIFO (named pipe), not a regular file"))
            #expect(result.stdout.isEmpty)
        }

        /// `RLIMIT_FSIZE` just above the file's size: a batch is written part-way, then EFBIG. The fragment must not
        /// stay glued to the next record once the limit is lifted.
        @Test func aTornWriteLeavesNoFragmentBeforeTheNextRecord() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            #expect(shim.call("fx__echo", ["n": 0], id: 0)?["result"] != nil)
            usleep(200_000)
            let size = try #require(fileSize(shim.auditPath))
            #expect(limitFileSize(of: shim.client.pid, to: "\(size + 700):unlimited"))
            var refused: JSONValue?
            for id in 1...20 {
                let reply = try #require(shim.call("fx__echo", ["n": .integer(id)], id: .integer(id)))
                if reply["result"]?["isError"] == true {
                    refused = reply
                    break
                }
            }
            let refusal = try #require(refused, "no call was refused under the size limit")
            let text = refusal["result"]?["content"]?[0]?["text"]?.stringValue ?? ""
            #expect(text.contains("could not write the audit record"), "\(text)")
            #expect(fileIsWholeLines(shim.auditPath), "the torn batch was cut off")
            #expect(limitFileSize(of: shim.client.pid, to: "unlimited:unlimited"))
            #expect(shim.call("fx__echo", ["n": "after"], id: "after")?["result"] != nil)
            #expect(fileIsWholeLines(shim.auditPath))
            let decisions = shim.auditRecords().filter { $0["event"] == "call.decision" }
            #expect(decisions.last?["decision"] == "allow")
            #expect(shim.finish() == .exited(0))
        }

        /// On an append-only file (`chattr +a`) the fragment cannot be cut: it must stand alone on its own line, and
        /// the next record must be whole.
        @Test func aFragmentThatCannotBeCutIsIsolatedOnItsOwnLine() throws {
            let scratch = Scratch()
            let audit = scratch.write("audit.jsonl", "")
            guard run("/usr/bin/chattr", ["+a", audit]) else { return }  // a file system without the attribute
            defer { _ = run("/usr/bin/chattr", ["-a", audit]) }
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"], audit: audit)
            try shim.initialize()
            #expect(shim.call("fx__echo", ["n": 0], id: 0)?["result"] != nil)
            usleep(200_000)
            let size = try #require(fileSize(audit))
            #expect(limitFileSize(of: shim.client.pid, to: "\(size + 700):unlimited"))
            var refused = false
            for id in 1...20 where !refused {
                refused = shim.call("fx__echo", ["n": .integer(id)], id: .integer(id))?["result"]?["isError"] == true
            }
            #expect(refused)
            #expect(limitFileSize(of: shim.client.pid, to: "unlimited:unlimited"))
            #expect(shim.call("fx__echo", ["n": "after"], id: "after")?["result"] != nil)
            #expect(shim.finish() == .exited(0))
            let data = try #require(FileManager.default.contents(atPath: audit))
            #expect(data.last == 0x0A)
            let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
            let parsed = lines.map { try? JSONValue(parsing: Array($0)) }
            let unparseable = parsed.indices.filter { parsed[$0] == nil }
            #expect(unparseable.count == 1, "one fragment, alone on its line")
            let fragment = try #require(unparseable.first)
            // The call made once the limit was lifted has its decision whole, after the fragment, not glued to it.
            #expect(
                parsed[(fragment + 1)...].contains { $0?["event"] == "call.decision" && $0?["decision"] == "allow" })
            #expect(parsed.last??["event"] == "session.end")
        }

        func run(_ executable: String, _ arguments: [String]) -> Bool {
            guard
                let client = try? StdioClient(
                    ChildCommand(executable: executable, arguments: arguments), environment: ["PATH": "/usr/bin:/bin"])
            else { return false }
            client.closeInput()
            return client.waitForExit(timeout: 10) == .exited(0)
        }

        func fileSize(_ path: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
        }

        /// Every line of the file is JSON and the file ends with a newline.
        func fileIsWholeLines(_ path: String) -> Bool {
            guard let data = FileManager.default.contents(atPath: path), data.last == 0x0A else { return false }
            return data.split(separator: 0x0A).allSatisfy { (try? JSONValue(parsing: Array($0))) != nil }
        }

    }
}

/// Sets a running process's `RLIMIT_FSIZE` (`soft:hard`, bytes or `unlimited`) with prlimit(1). Writes past the soft
/// limit then fail with EFBIG (the shim ignores SIGXFSZ).
func limitFileSize(of pid: pid_t, to limits: String) -> Bool {
    guard
        let client = try? StdioClient(
            ChildCommand(executable: "/usr/bin/prlimit", arguments: ["--pid", "\(pid)", "--fsize=\(limits)"]),
            environment: ["PATH": "/usr/bin:/bin"])
    else { return false }
    client.closeInput()
    return client.waitForExit(timeout: 10) == .exited(0)
}
