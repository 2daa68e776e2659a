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
    }
}
