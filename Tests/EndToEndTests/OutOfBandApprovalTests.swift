import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// Out-of-band approval through the real binary: an agent whose client cannot ask (no elicitation), a rule
    /// that says ask, and the persona's approval command or `persona-shim approve` / `deny` at a terminal.
    @Suite struct OutOfBandApprovalTests {
        static let rules = #"""
            [{"id": "big-refunds", "tools": ["fx__refund"], "when": {"amount": {"exclusiveMinimum": 100}},
              "decision": "ask", "reason": "Refunds above 100 need a person"}]
            """#

        func start(_ recording: Recording, approval: String) throws -> ShimProcess {
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__refund", "fx__echo"],
                extra: [("rules", try json(Self.rules)), ("approval", try json(approval))])
            try shim.initialize()
            return shim
        }

        @Test func theCommandApprovesByExitingZeroAndGetsTheQuestionOnStdin() throws {
            let recording = Recording()
            let seen = recording.scratch.path + "/question.json"
            let shim = try start(
                recording,
                approval:
                    #"{"channel": "out-of-band", "terminal": false, "timeoutSeconds": 60, "command": ["/bin/sh", "-c", "cat > \#(seen)"]}"#
            )
            let sent = rawCall(id: "r1", "fx__refund", #"{"amount":250,"customer":"cus_1"}"#)
            let response = try #require(shim.callRaw(sent, id: "r1"), "stderr: \(shim.client.standardError)")
            #expect(resultText(response) != nil, "\(response)")
            let received = try #require(recording.calls().last)
            expectForwardedUnchanged(sent: sent, received: received, exposedName: "fx__refund", tool: "refund")
            let question = try JSONValue(parsing: try String(contentsOfFile: seen, encoding: .utf8))
            #expect(question["tool"] == "fx__refund" && question["server"] == "fx" && question["rule"] == "big-refunds")
            #expect(question["arguments"] == ["amount": 250, "customer": "cus_1"])
            let records = shim.auditRecords()
            let answered = try #require(records.first { $0["event"] == "approval.answered" })
            #expect(answered["by"] == "command" && answered["answer"] == "approved")
            #expect(answered["how"]?.stringValue?.contains("exited with code 0") == true)
            let decision = try #require(records.last { $0["event"] == "call.decision" && $0["tool"] == "fx__refund" })
            #expect(decision["argsDigest"] == question["argumentsDigest"])
            #expect(decision["approvedArgsDigest"] == question["argumentsDigest"])
        }

        @Test func theCommandRefusesByExitingNonZero() throws {
            let recording = Recording()
            let shim = try start(
                recording,
                approval: #"{"channel": "out-of-band", "terminal": false, "command": ["/bin/sh", "-c", "exit 1"]}"#)
            let response = shim.callRaw(rawCall(id: "r1", "fx__refund", #"{"amount":500}"#), id: "r1")
            let text = try #require(refusal(response), "\(String(describing: response))")
            #expect(text.contains("did not approve") && text.contains("exited with code 1"), "\(text)")
            #expect(recording.calls().isEmpty)
            #expect(shim.auditRecords().contains { $0["event"] == "approval.answered" && $0["answer"] == "denied" })
        }

        @Test func aHangingCommandTimesOutIsKilledAndLeavesNoProcess() throws {
            let recording = Recording()
            let pidFile = recording.scratch.path + "/pid"
            let shim = try start(
                recording,
                approval:
                    #"{"channel": "out-of-band", "terminal": false, "timeoutSeconds": 1, "command": ["/bin/sh", "-c", "echo $$ > \#(pidFile); exec sleep 300"]}"#
            )
            // Other calls flow while the refund waits.
            try shim.client.send(rawCall(id: "r1", "fx__refund", #"{"amount":500}"#))
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: "e1")) != nil)
            let pid = try #require(readPID(pidFile))
            var response: JSONValue?
            _ = eventually(timeout: 30) {
                guard let message = shim.client.readMessage(timeout: 1) else { return false }
                if message["id"] == "r1" { response = message }
                return response != nil
            }
            let text = try #require(refusal(response), "\(String(describing: response))")
            #expect(text.contains("1 seconds") || text.contains("nobody answered"), "\(text)")
            #expect(
                eventually(timeout: 20) {
                    !processIsAlive(pid) && !FileManager.default.fileExists(atPath: "/proc/\(pid)")
                })
            #expect(recording.calls().count == 1)  // the echo only
        }

        @Test func aCommandThatCannotStartRefusesAtOnce() throws {
            let recording = Recording()
            let shim = try start(
                recording,
                approval: #"{"channel": "out-of-band", "terminal": false, "command": ["/nonexistent/approver"]}"#)
            let text = try #require(
                refusal(shim.callRaw(rawCall(id: "r1", "fx__refund", #"{"amount":500}"#), id: "r1")))
            #expect(text.contains("no approval could be obtained") && text.contains("/nonexistent/approver"), "\(text)")
            #expect(recording.calls().isEmpty)
        }

        @Test func theTerminalCommandsExplainThemselves() throws {
            let scratch = Scratch()
            let environment = ["XDG_RUNTIME_DIR": scratch.path]
            let empty = try runShim(["approvals"], environment: environment)
            #expect(empty.status == .exited(0) && empty.stdout.contains("No call is waiting for approval."))
            let usage = try runShim(["approve"], environment: environment)
            #expect(usage.status == .exited(64) && usage.stderr.contains("approve takes one question id"))
            let unknown = try runShim(["deny", "0123456789abcdef"], environment: environment)
            #expect(unknown.status == .exited(1) && unknown.stderr.contains("no persona-shim of yours is waiting"))
            // A folder others can enter is not trusted: someone could be listening there instead of a shim.
            mkdir(scratch.path + "/persona-shim", 0o755)
            chmod(scratch.path + "/persona-shim", 0o755)
            let open = try runShim(["deny", "0123456789abcdef"], environment: environment)
            #expect(open.status == .exited(1) && open.stderr.contains("chmod 700"), "\(open.stderr)")
            let help = try runShim(["help", "approve"])
            #expect(help.status == .exited(0) && help.stdout.contains("/dev/tty"))
        }
    }
}
