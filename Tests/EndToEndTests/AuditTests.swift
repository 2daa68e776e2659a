import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite struct Audit {
        @Test func everyRecordCarriesTheCommonFieldsInOrder() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            _ = shim.call("fx__echo", ["b": 2, "a": 1])
            _ = shim.call("fx__raw")
            #expect(shim.finish() == .exited(0))
            let records = shim.auditRecords()
            #expect(
                records.map { $0["event"]?.stringValue ?? "" } == [
                    "session.start", "child.start", "child.ready", "call.decision", "call.outcome", "call.decision",
                    "child.exit", "session.end",
                ])
            let session = records[0]["session"]
            for (index, record) in records.enumerated() {
                #expect(record["seq"] == .integer(index + 1))
                #expect(record["session"] == session)
                #expect(record["persona"] == "test-persona")
                #expect(record["agent"] == ["name": "e2e-agent", "version": "9.9", "source": "clientInfo"])
                #expect(record["user"]?.stringValue?.isEmpty == false)
                let ts = record["ts"]?.stringValue ?? ""
                #expect(
                    ts.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil,
                    "\(ts)")
            }
            let personaBytes = try Data(contentsOf: URL(fileURLWithPath: shim.personaPath))
            #expect(records[0]["personaDigest"] == .string("sha256:" + SHA256.hash(Array(personaBytes)).hexString))
            let allow = records[3]
            #expect(allow["decision"] == "allow")
            #expect(allow["rule"] == #"tools.allow["fx__echo"]"#)
            #expect(allow["argsDigest"] == .string("sha256:" + SHA256.hash(#"{"a":1,"b":2}"#).hexString))
            #expect(records[4]["outcome"] == "ok")
            #expect(records[4]["durationMs"]?.doubleValue ?? -1 >= 0)
            #expect(records[5]["decision"] == "deny")
            let text = try String(contentsOfFile: shim.auditPath, encoding: .utf8)
            #expect(!text.contains(#""a":1"#), "raw arguments must not be in the audit trail by default")
        }

        @Test func theAuditFileIsOwnerOnly() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            _ = shim.finish()
            var info = stat()
            #expect(stat(shim.auditPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
        }

        @Test func theAllowRecordIsWrittenBeforeTheServerSeesTheCall() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__hang"])
            try shim.initialize()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__hang","arguments":{}}}"#)
            // The call never completes, yet its allow decision is already on disk.
            #expect(
                eventually { shim.auditRecords().contains { $0["decision"] == "allow" && $0["tool"] == "fx__hang" } })
            #expect(!shim.auditRecords().contains { $0["event"] == "call.outcome" })
        }

        @Test func pipelinedCallsShareAuditWritesButEachDecisionPrecedesItsOutcome() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let count = 200
            let lines = (0..<count).map {
                #"{"jsonrpc":"2.0","id":\#($0),"method":"tools/call","params":{"name":"fx__echo","arguments":{"i":\#($0)}}}"#
            }
            try shim.client.send(lines.joined(separator: "\n"))
            var answered = Set<Int>()
            for _ in 0..<count {
                let reply = try #require(shim.client.readMessage(timeout: 20))
                #expect(reply["result"]?["isError"] != true)
                answered.insert(try #require(reply["id"]?.intValue))
            }
            #expect(answered == Set(0..<count))
            _ = shim.finish()
            let records = shim.auditRecords()
            let decisions = records.filter { $0["event"] == "call.decision" }
            let outcomes = records.filter { $0["event"] == "call.outcome" }
            #expect(decisions.count == count && outcomes.count == count)
            #expect(decisions.allSatisfy { $0["decision"] == "allow" })
            // Records are in seq order, and the n-th outcome comes after the n-th decision.
            #expect(records.map { $0["seq"]?.intValue ?? 0 } == Array(1...records.count))
            for (decision, outcome) in zip(decisions, outcomes) {
                #expect((decision["seq"]?.intValue ?? .max) < (outcome["seq"]?.intValue ?? 0))
            }
        }

        @Test func pipelinedCallsWhoseDecisionsCannotBeWrittenAllGetRefusedAndNoneReachesTheServer() throws {
            // A file size limit at the file's size fails every later write (EFBIG): the batch's one audit write fails.
            let shim = try ShimProcess(servers: [("fx", fixture(["--stderr-chatter"]))], allow: ["fx__echo"])
            try shim.initialize()
            #expect(limitFileSize(of: shim.client.pid, to: "0:unlimited"))
            let count = 50
            let lines = (0..<count).map {
                #"{"jsonrpc":"2.0","id":\#($0),"method":"tools/call","params":{"name":"fx__echo","arguments":{}}}"#
            }
            try shim.client.send(lines.joined(separator: "\n"))
            var answered = Set<Int>()
            for _ in 0..<count {
                let reply = try #require(shim.client.readMessage(timeout: 20))
                #expect(reply["result"]?["isError"] == true)
                let text = reply["result"]?["content"]?[0]?["text"]?.stringValue ?? ""
                #expect(text.contains("could not write the audit record"), "\(text)")
                answered.insert(try #require(reply["id"]?.intValue))
            }
            #expect(answered == Set(0..<count))
            #expect(try shim.roundTrip(#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#).contains(#""result":{}"#))
            _ = shim.finish()
            let log = shim.client.completeStandardError(timeout: 5)
            #expect(log.contains("received tools/list"), "the fixture's chatter must be visible: \(log)")
            #expect(!log.contains("received tools/call"), "a call reached the server: \(log)")
        }
    }
}
