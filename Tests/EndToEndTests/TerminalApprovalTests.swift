import Foundation
import Testing

@testable import PersonaShim

extension EndToEnd {
    /// `persona-shim approve` / `deny` against a real session, with the process trees the design is about.
    ///
    /// The shim is started the way an agent starts it: as the child of another process (a small `sh` "agent").
    /// That agent can run a command of its own (under a pseudo-terminal, with `script`), which is therefore its
    /// descendant, as an agent's shell tool would be. A person's command is started by the test itself: a sibling
    /// of the agent, outside its tree, under a pseudo-terminal of its own.
    @Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    struct TerminalApprovalTests {
        static let agentScript = #"""
            shim=$1; persona=$2; audit=$3; go=$4; out=$5
            exec 3<&0
            "$shim" run --persona "$persona" --audit "$audit" <&3 3<&- &
            exec 3<&-
            i=0
            while [ ! -s "$go" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
            if [ "$(cat "$go")" != none ]; then
                script -qec "$(cat "$go")" /dev/null > "$out" 2>&1 < /dev/null
                echo $? > "$out.status"
            fi
            wait
            """#

        /// A shim under the `sh` agent, with a terminal-approval persona and its own approvals folder.
        final class AgentSession {
            let recording = Recording()
            let client: StdioClient
            let auditPath: String
            let runtime: String
            let go: String
            let out: String
            var environment: [String: String] {
                ["PATH": "/usr/bin:/bin", "HOME": recording.scratch.path, "XDG_RUNTIME_DIR": runtime]
            }

            init() throws {
                let scratch = recording.scratch
                runtime = scratch.path + "/run"
                mkdir(runtime, 0o700)
                auditPath = scratch.path + "/audit.jsonl"
                go = scratch.path + "/go"
                out = scratch.path + "/out"
                let persona = scratch.write(
                    "persona.json",
                    personaJSON(
                        servers: [("fx", recording.server())], allow: ["fx__refund", "fx__echo"],
                        extra: [
                            ("rules", try json(OutOfBandApprovalTests.rules)),
                            ("approval", try json(#"{"channel": "out-of-band", "timeoutSeconds": 120}"#)),
                        ]))
                client = try StdioClient(
                    ChildCommand(
                        executable: "/bin/sh",
                        arguments: [
                            "-c", TerminalApprovalTests.agentScript, "agent", Binaries.shim, persona, auditPath, go,
                            out,
                        ]),
                    environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path, "XDG_RUNTIME_DIR": runtime])
                let reply = client.request(
                    "initialize",
                    params: [
                        "protocolVersion": "2025-11-25", "capabilities": [:],
                        "clientInfo": ["name": "agent-without-elicitation", "version": "1"],
                    ], id: 0)
                _ = try #require(reply.response, "stderr: \(client.standardError)")
                try client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            }

            deinit { _ = end() }

            /// Lets the agent go (if it was not asked to run anything) and closes the shim's input; the agent's exit.
            func end() -> PersonaShim.ExitStatus? {
                if !FileManager.default.fileExists(atPath: go) {
                    _ = FileManager.default.createFile(atPath: go, contents: Data("none".utf8))
                }
                client.closeInput()
                return client.waitForExit(timeout: 30)
            }

            /// Sends the refund and waits until `persona-shim approvals` lists its question; returns the id.
            func parkRefund() throws -> String {
                try client.send(rawCall(id: "r1", "fx__refund", #"{"amount":250,"customer":"cus_1"}"#))
                var id: String?
                _ = eventually(timeout: 30) {
                    let listed = try? runShim(["approvals", "--json"], environment: environment)
                    let json = listed.flatMap { try? JSONValue(parsing: $0.stdout) }
                    id = json?["questions"]?[0]?["id"]?.stringValue
                    return id != nil
                }
                return try #require(id, "no question listed; stderr: \(client.standardError)")
            }

            /// The agent runs `command` under a pseudo-terminal, as its descendant; returns its exit code and output.
            func agentRuns(_ command: String) -> (status: Int?, output: String) {
                _ = FileManager.default.createFile(atPath: go, contents: Data(command.utf8))
                var status: Int?
                _ = eventually(timeout: 30) {
                    status = (try? String(contentsOfFile: out + ".status", encoding: .utf8)).flatMap {
                        Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
                    }
                    return status != nil
                }
                return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
            }

            func response(_ id: String, timeout: Double = 30) -> JSONValue? {
                let deadline = Date().addingTimeInterval(timeout)
                while Date() < deadline {
                    guard let message = client.readMessage(timeout: deadline.timeIntervalSinceNow) else { return nil }
                    if message["id"]?.stringValue == id && message["method"] == nil { return message }
                }
                return nil
            }

            func auditRecords() -> [JSONValue] {
                usleep(100_000)
                let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
            }

            func stillListed(_ id: String) -> Bool {
                let listed = try? runShim(["approvals", "--json"], environment: environment)
                return listed?.stdout.contains(id) == true
            }
        }

        @Test func aProcessWithoutATerminalIsRefusedEvenWithYesOnItsStdin() throws {
            let session = try AgentSession()
            let id = try session.parkRefund()
            let approver = try StdioClient(
                ChildCommand(executable: "/usr/bin/setsid", arguments: ["-w", Binaries.shim, "approve", id]),
                environment: session.environment)
            try approver.send("y")
            try approver.send(id)
            approver.closeInput()
            #expect(approver.waitForExit(timeout: 30) == .exited(1))
            let stderr = approver.completeStandardError(timeout: 10)
            #expect(stderr.contains("persona-shim approve must be run by a person at a terminal"), "\(stderr)")
            #expect(session.stillListed(id))
            #expect(session.recording.calls().isEmpty)
        }

        /// A client that skips `persona-shim approve` and speaks to the socket itself is judged by the shim all the
        /// same: this test process is outside the agent's tree, but has no terminal (the test runs only then).
        @Test(.enabled(if: TerminalApprovalTests.withoutTerminal))
        func aRawClientWithoutATerminalIsRefusedByTheShimAndAudited() throws {
            let session = try AgentSession()
            let id = try session.parkRefund()
            let folder = ApprovalDirectory.path(environment: session.environment)
            let socket = try #require(ApprovalDirectory.sockets(in: folder).first)
            let reply = try ApprovalClient.exchange(socket, .challenge(id: id)).get()
            #expect(reply["code"] == nil)
            #expect(reply["refused"]?.stringValue?.contains("no controlling terminal") == true, "\(reply)")
            let forced = try ApprovalClient.exchange(socket, .approve(id: id, code: "AAAA-AAAA")).get()
            #expect(forced["refused"] != nil)
            let attempts = session.auditRecords().filter { $0["event"] == "approval.attempt" }
            #expect(attempts.map { $0["refusal"]?.stringValue } == ["no-terminal", "no-terminal"])
            #expect(attempts.allSatisfy { $0["pid"]?.intValue == Int(getpid()) && $0["question"]?.stringValue == id })
            #expect(session.stillListed(id))
            #expect(session.recording.calls().isEmpty)
        }

        static var withoutTerminal: Bool {
            let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
            if fd >= 0 { close(fd) }
            return fd < 0
        }

        @Test func aCommandTheAgentRunsUnderAPseudoTerminalIsRefusedAndAudited() throws {
            let session = try AgentSession()
            let id = try session.parkRefund()
            let (status, output) = session.agentRuns("\(Binaries.shim) approve \(id)")
            #expect(status == 1, "\(output)")
            #expect(output.contains("the shim refused") && output.contains("descends from the agent"), "\(output)")
            #expect(session.stillListed(id))
            #expect(session.recording.calls().isEmpty)
            let attempt = try #require(session.auditRecords().first { $0["event"] == "approval.attempt" })
            #expect(attempt["question"]?.stringValue == id && attempt["refusal"] == "inside-agent")
        }

        @Test func aPersonAtATerminalOutsideTheAgentApprovesByTypingTheCode() throws {
            let session = try AgentSession()
            let id = try session.parkRefund()
            let person = try StdioClient(
                ChildCommand(
                    executable: "/usr/bin/script", arguments: ["-qec", "\(Binaries.shim) approve \(id)", "/dev/null"]),
                environment: session.environment)
            var shown: [String] = []
            var code: String?
            while code == nil, let line = person.readLine(timeout: 30) {
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                shown.append(text)
                if text.count == 9, text.dropFirst(4).first == "-",
                    shown.contains(where: { $0.hasPrefix("To approve") })
                {
                    code = text
                }
            }
            let typed = try #require(code, "no code shown: \(shown)")
            // The whole question was on the terminal first.
            #expect(shown.contains { $0.contains("fx__refund") } && shown.contains { $0.contains("big-refunds") })
            #expect(shown.contains { $0.contains(#""amount": 250"#) || $0.contains(#""amount":250"#) }, "\(shown)")
            try person.send(typed)
            #expect(person.waitForExit(timeout: 30) == .exited(0))
            let response = session.response("r1")
            #expect(
                resultText(response) != nil, "\(String(describing: response)); stderr: \(session.client.standardError)")
            #expect(session.recording.calls().count == 1)
            let answered = try #require(session.auditRecords().first { $0["event"] == "approval.answered" })
            #expect(answered["by"] == "terminal" && answered["answer"] == "approved")
            #expect(answered["how"]?.stringValue?.contains("/dev/pts/") == true, "\(answered)")
        }

        @Test func denyRefusesTheCallAtOnce() throws {
            let session = try AgentSession()
            let id = try session.parkRefund()
            let denied = try runShim(["deny", id], environment: session.environment)
            #expect(denied.status == .exited(0), "\(denied.stderr)")
            let text = try #require(refusal(session.response("r1")))
            #expect(text.contains("did not approve") && text.contains("persona-shim deny"), "\(text)")
            #expect(session.recording.calls().isEmpty)
            #expect(!session.stillListed(id))
            let again = try runShim(["approve", id], environment: session.environment)
            #expect(again.status == .exited(1))
            // At the end of the session its socket is gone from the approvals folder.
            let folder = session.runtime + "/persona-shim"
            #expect((try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == false)
            #expect(session.end() != nil)
            #expect(
                eventually(timeout: 10) {
                    (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true
                })
        }
    }
}
