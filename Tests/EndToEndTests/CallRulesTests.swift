import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Argument rules judged through the binary: refusals never reach the server, and what does reach it is the
    /// very bytes that were checked.
    @Suite struct CallRules {
        /// A project folder with a way out through a link, a secret folder inside, and a look-alike sibling.
        static func projectTree() -> Scratch {
            let files = Scratch()
            for folder in ["project/docs", "project/secret", "outside", "project_evil"] {
                try? FileManager.default.createDirectory(
                    atPath: files.path + "/" + folder, withIntermediateDirectories: true)
            }
            for file in ["project/docs/a.txt", "project/secret/key", "outside/x.txt", "project_evil/x.txt"] {
                _ = files.write(file, "content of \(file)\n")
            }
            symlink("../outside", files.path + "/project/link")
            return files
        }

        static func rules(root: String) throws -> JSONValue {
            try json(
                #"""
                [
                  {"id": "project-files", "tools": ["fx__read_file"],
                   "require": {"path": {"under": ["\#(root)/project"], "notUnder": ["\#(root)/project/secret"]}}},
                  {"id": "no-internal-hosts", "tools": ["fx__post_url"],
                   "require": {"url": {"hosts": {"deny": ["127.0.0.1", "*.internal.example"]}}}},
                  {"id": "refund-cap", "tools": ["fx__refund"], "require": {"amount": {"type": "number", "maximum": 100}}},
                  {"id": "crypto-refunds", "tools": ["fx__refund"], "decision": "ask",
                   "when": {"currency": {"enum": ["BTC", "ETH"], "ifPresent": true}},
                   "reason": "Refunds in crypto currencies need a person"},
                  {"id": "declared-arguments", "tools": ["fx__refund"], "strictArguments": true}
                ]
                """#)
        }

        @Test func refusedCallsNeverReachTheServerAndAllowedOnesArriveByteForByte() throws {
            let files = Self.projectTree()
            let root = files.path
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__*"],
                // Nobody can be asked out of band (no command, no terminal): an ask is refused at once.
                extra: [("rules", try Self.rules(root: root)), ("approval", try json(#"{"terminal": false}"#))])
            try shim.initialize()
            // (tool, arguments as sent, the rule that refuses them or nil).
            let cases: [(String, String, String?)] = [
                ("read_file", #"{"path":"\#(root)/project/docs/a.txt"}"#, nil),
                ("read_file", #"{ "path" : "\#(root)/project/docs/..//docs/./a.txt" }"#, nil),
                ("read_file", #"{"path":"\#(root)/project/docs/../../outside/x.txt"}"#, "project-files"),
                ("read_file", #"{"path":"\#(root)/project/link/x.txt"}"#, "project-files"),
                ("read_file", #"{"path":"\#(root)/project/link/../docs/a.txt"}"#, "project-files"),
                ("read_file", #"{"path":"\#(root)/project/%2e%2e/outside/x.txt"}"#, "project-files"),
                ("read_file", #"{"path":"file://\#(root)/project/link/x.txt"}"#, "project-files"),
                ("read_file", #"{"path":"\#(root)/project/docs/../secret/key"}"#, "project-files"),
                ("read_file", #"{"path":"\#(root)/project_evil/x.txt"}"#, "project-files"),
                ("read_file", #"{"path":"\#(root)/project/docs/a.txt\u0000"}"#, "project-files"),
                ("read_file", #"{"file":"\#(root)/project/docs/a.txt"}"#, "project-files"),
                ("post_url", #"{"url":"https://good.example/hook","body":"h\u00e9llo"}"#, nil),
                ("post_url", #"{"url":"https://127.0.0.1@good.example/"}"#, nil),
                ("post_url", #"{"url":"http://127.0.0.1/"}"#, "no-internal-hosts"),
                ("post_url", #"{"url":"http://0x7f.1/"}"#, "no-internal-hosts"),
                ("post_url", #"{"url":"http://2130706433:8080/"}"#, "no-internal-hosts"),
                ("post_url", #"{"url":"http://[::ffff:127.0.0.1]/"}"#, "no-internal-hosts"),
                ("post_url", #"{"url":"https://good.example@127.0.0.1/"}"#, "no-internal-hosts"),
                ("post_url", #"{"url":"https://good.example@API.Internal.Example./x"}"#, "no-internal-hosts"),
                ("refund", #"{"amount":1e2,"currency":"EUR"}"#, nil),
                ("refund", #"{"amount":100.000,"currency":"USD"}"#, nil),
                ("refund", #"{"amount":99.999999999999999999999}"#, nil),
                ("refund", #"{"amount":100.00000000000001,"currency":"EUR"}"#, "refund-cap"),
                ("refund", #"{"amount":1.0000000000000001e2}"#, "refund-cap"),
                ("refund", #"{"amount":"100","currency":"EUR"}"#, "refund-cap"),
                ("refund", #"{"currency":"EUR"}"#, "refund-cap"),
                ("refund", #"{"amount":5,"currency":"BTC"}"#, "crypto-refunds"),
                ("refund", #"{"amount":5,"currency":"EUR","note":"goodwill"}"#, "declared-arguments"),
            ]
            var sentAndAllowed: [(line: String, tool: String)] = []
            for (index, (tool, arguments, rule)) in cases.enumerated() {
                let line = rawCall(id: "c\(index)", "fx__" + tool, arguments)
                let response = shim.callRaw(line, id: "c\(index)")
                if let rule {
                    let sentence = try #require(
                        refusal(response), "\(arguments) was not refused: \(String(describing: response))")
                    #expect(sentence.hasPrefix("persona-shim refused this call under the persona \"test-persona\": "))
                    #expect(sentence.hasSuffix("(rule \(rule))."), "\(sentence)")
                } else {
                    #expect(resultText(response) != nil, "\(arguments) was refused: \(String(describing: response))")
                    sentAndAllowed.append((line, tool))
                }
            }
            let ask = try #require(
                refusal(shim.callRaw(rawCall(id: "ask", "fx__refund", #"{"amount":1,"currency":"ETH"}"#), id: "ask")))
            #expect(ask.contains("Refunds in crypto currencies need a person"))
            #expect(ask.contains("needs a person's approval") && ask.contains("nothing reached the server"))

            let decisions = shim.decisions()
            try #require(decisions.count == cases.count + 1)
            for (record, (tool, arguments, rule)) in zip(decisions, cases) {
                #expect(record["tool"]?.stringValue == "fx__" + tool)
                #expect(record["decision"]?.stringValue == (rule == nil ? "allow" : "deny"), "\(arguments)")
                if let rule {
                    #expect(record["rule"]?.stringValue == rule, "\(arguments)")
                    #expect((record["reason"]?.stringValue ?? "").count > 20, "\(record)")
                }
            }
            // Nothing refused reached the server; what did is what was checked, only the id and name rewritten.
            let received = recording.calls()
            #expect(received.count == sentAndAllowed.count)
            for (line, (sent, tool)) in zip(received, sentAndAllowed) {
                expectForwardedUnchanged(sent: sent, received: line, exposedName: "fx__" + tool, tool: tool)
            }
        }

        /// A relative path means what it means to the server: relative to the server's working directory.
        @Test func relativePathsResolveAgainstTheServersWorkingDirectory() throws {
            let files = Self.projectTree()
            let root = files.path
            let recording = Recording()
            let path = recording.path
            let server: JSONValue = [
                "command": .string(Binaries.fixture), "args": ["--policy-tools", "--record", .string(path)],
                "cwd": .string(root + "/project/docs"),
            ]
            let shim = try ShimProcess(
                servers: [("fx", server)], allow: ["fx__read_file"], extra: [("rules", try Self.rules(root: root))])
            try shim.initialize()
            #expect(resultText(shim.call("fx__read_file", ["path": "a.txt"], id: 1)) != nil)
            #expect(resultText(shim.call("fx__read_file", ["path": "./../docs/a.txt"], id: 2)) != nil)
            for (id, path) in ["../../outside/x.txt", "../link/x.txt", "../secret/key", "../../project_evil/x.txt"]
                .enumerated()
            {
                let sentence = refusal(shim.call("fx__read_file", ["path": .string(path)], id: .integer(id + 3)))
                #expect(
                    sentence?.hasSuffix("(rule project-files).") == true, "\(path): \(String(describing: sentence))")
            }
            #expect(recording.calls().count == 2)
        }

        /// `check` reports every mistake in the per-call sections at once, each at its line and column; a wrong
        /// decision does not hide the mistakes in the conditions beside it.
        @Test func checkReportsEveryMistakeInTheRulesAtItsLineAndColumn() throws {
            let scratch = Scratch()
            let path = scratch.write(
                "p.json",
                #"""
                {
                  "persona": "p",
                  "purpose": "Checks rules.",
                  "owner": "o",
                  "reviewBy": "2099-01-01",
                  "servers": {"fx": {"command": "fx"}},
                  "tools": {"allow": ["fx__*"]},
                  "rules": [
                    {"id": "cap", "tools": ["fx__refund"], "when": {"amount": {"maximum": "100"}}, "decision": "maybe"}
                  ],
                  "limits": [{"id": "rate", "calls": 10, "per": "1w"}],
                  "labels": {"tools": {"fx__fetch": ["Untrusted Input"]}},
                  "mode": "monitor"
                }
                """#)
            let result = try runShim(["check", path])
            #expect(result.status == .exited(1))
            for line in [
                #"9:96: error: "decision" must be "deny" or "ask", not "maybe""#,
                #"9:75: error: "maximum" must be a number, not a string (write the number without quotes)"#,
                #"11:49: error: "per" must be a whole number and a unit, s, m, h or d"#,
                #"12:38: error: label "Untrusted Input" may use only lower-case letters, digits and '-'"#,
            ] {
                #expect(result.stderr.contains(path + ":" + line), "\(result.stderr)")
            }
            #expect(result.stderr.contains("4 errors") || result.stdout.contains("4 errors"))
        }

        @Test func aRepeatedKeyIsRefusedSoTheServerCannotReadAnotherValue() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__*"],
                extra: [("rules", try Self.rules(root: "/srv"))])
            try shim.initialize()
            let line = rawCall(id: "dup", "fx__refund", #"{"amount":5,"amount":5000}"#)
            let response = try #require(shim.callRaw(line, id: "dup"))
            #expect(response["error"]?["code"] == -32602)
            // The same call without the repeated key goes through: the recording does see what arrives.
            let single = rawCall(id: "single", "fx__refund", #"{"amount":5}"#)
            #expect(resultText(shim.callRaw(single, id: "single")) == #"{"amount":5}"#)
            let received = recording.calls()
            #expect(received.count == 1)
            if let first = received.first {
                expectForwardedUnchanged(sent: single, received: first, exposedName: "fx__refund", tool: "refund")
            }
        }

        @Test func monitorModeLetsRefusedCallsThroughAndRecordsThemAsNotEnforced() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__refund", "fx__echo"],
                extra: [
                    ("mode", "monitor"), ("rules", try Self.rules(root: "/srv")),
                    ("limits", try json(#"[{"id": "one-echo", "tools": ["fx__echo"], "calls": 1}]"#)),
                ])
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo", "fx__refund"])
            let big = rawCall(id: "big", "fx__refund", #"{"amount":150.5}"#)
            #expect(resultText(shim.callRaw(big, id: "big")) == #"{"amount":150.5}"#)
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: "e1")) != nil)
            #expect(resultText(shim.call("fx__echo", ["n": 2], id: "e2")) != nil)
            // Monitor mode is for rolling out call rules: tools the persona hides stay hidden.
            #expect(shim.call("fx__crash", id: "hidden")?["error"]?["message"] == "Unknown tool: fx__crash")
            #expect(shim.call("fx__read_file", ["path": "/"], id: "hidden2")?["error"]?["code"] == -32602)

            let decisions = shim.decisions()
            try #require(decisions.count == 5)
            #expect(decisions[0]["decision"] == "deny")
            #expect(decisions[0]["rule"] == "refund-cap")
            #expect(decisions[0]["enforced"] == false)
            #expect(decisions[1]["decision"] == "allow")
            #expect(decisions[1]["enforced"] == nil)
            #expect(decisions[2]["decision"] == "deny")
            #expect(decisions[2]["rule"] == "limits.one-echo")
            #expect(decisions[2]["enforced"] == false)
            #expect(decisions[3]["enforced"] == nil && decisions[3]["rule"] == "default-deny")
            let received = recording.calls()
            #expect(received.count == 3)
            expectForwardedUnchanged(sent: big, received: received[0], exposedName: "fx__refund", tool: "refund")
            #expect(!received.contains { $0.contains("crash") || $0.contains("read_file") })
        }
    }
}
