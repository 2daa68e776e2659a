import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a new user meets first: `tools`, `check` with the server options, client configs as `--servers`, `digest`.
extension EndToEnd {
    @Suite struct FirstHour {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path

        /// Every bundled persona, with the server options it is meant to be run with.
        static let bundledPersonas: [(String, [String])] = [
            ("support-reader.json", []),
            ("support-refunds.json", []),
            ("support-triage.json", []),
            ("git-reader.json", ["--", "uvx", "mcp-server-git", "--repository", "."]),
        ]

        @Test func everyBundledPersonaIsCovered() throws {
            let files = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/Personas")
                .filter { $0.hasSuffix(".json") && $0 != "persona.schema.json" }
            #expect(Set(files) == Set(Self.bundledPersonas.map(\.0)))
        }

        @Test(arguments: bundledPersonas)
        func everyBundledPersonaPassesCheck(_ file: String, _ options: [String]) throws {
            let result = try runShim(["check", Self.root + "/Personas/" + file] + options)
            #expect(result.status == .exited(0), "\(result.stderr)")
            #expect(result.stdout.contains("is valid"))
            #expect(!result.stderr.contains("can never match"), "\(result.stderr)")
        }

        /// Each example client config names persona-shim with arguments; `check` takes the same ones.
        @Test(arguments: [
            "claude_desktop_config.json", "claude-code.mcp.json", "cursor.mcp.json", "vscode.mcp.json",
            "wrap-one-server.mcp.json",
        ])
        func everyExampleConfigsArgumentsPassCheck(_ name: String) throws {
            let text = try String(contentsOfFile: Self.root + "/Examples/" + name, encoding: .utf8)
            let config = try JSONValue(parsing: text)
            let servers = try #require((config["mcpServers"] ?? config["servers"])?.objectValue)
            for (_, entry) in servers.members {
                var arguments = (entry["args"]?.arrayValue ?? []).compactMap(\.stringValue).map {
                    $0.replacingOccurrences(of: "/abs/path/to/repo", with: Self.root)
                        .replacingOccurrences(of: "/abs/path/", with: Self.root + "/")
                }
                let persona = try #require(arguments.firstIndex(of: "--persona"))
                let path = arguments[persona + 1]
                arguments.removeSubrange(persona...(persona + 1))
                let result = try runShim(["check", path] + arguments)
                #expect(result.status == .exited(0), "\(name): \(result.stderr)")
                #expect(!result.stderr.contains("can never match"), "\(name): \(result.stderr)")
            }
        }

        @Test func checkTakesAWrappedCommandAndNamesWhatItChose() throws {
            let git = Self.root + "/Personas/git-reader.json"
            let derived = try runShim(["check", git, "--", "uvx", "mcp-server-git"])
            #expect(derived.status == .exited(0), "\(derived.stderr)")
            #expect(derived.stderr.contains(#"is named "git", so its tools appear as git__TOOL"#))
            let misnamed = try runShim(["check", git, "--name", "repo", "--", "uvx", "mcp-server-git"])
            #expect(misnamed.status == .exited(0))
            #expect(
                misnamed.stderr.contains(
                    #"pattern "git__git_log" names server "git", which this persona does not have (its servers: "repo")"#
                ),
                "\(misnamed.stderr)")
        }

        @Test func checkWarnsOnAPatternWithoutItsServer() throws {
            let scratch = Scratch()
            let path = scratch.write(
                "p.json", personaJSON(servers: [("time", fixture())], allow: ["get_current_time"]))
            let result = try runShim(["check", path])
            #expect(result.status == .exited(0))
            #expect(result.stderr.contains(#"pattern "get_current_time" has no "__""#), "\(result.stderr)")
            #expect(result.stderr.contains(#"e.g. "time__get_current_time""#))
        }

        @Test(arguments: [
            ["check", "a.json", "b.json"], ["tools"], ["tools", "a", "b"], ["digest"],
            ["check", "p.json", "--name", "x"],
            ["check", "p.json", "--"],
        ])
        func usageErrorsNameWhatWasGiven(_ arguments: [String]) throws {
            let result = try runShim(arguments)
            #expect(result.status == .exited(64), "\(result.stderr)")
            #expect(result.stderr.contains("persona-shim: error: "))
        }

        @Test func checkOfAMissingFileDoesNotTalkAboutPersonaOption() throws {
            let result = try runShim(["check", "nothere.json"])
            #expect(result.status == .exited(1))
            #expect(result.stderr.contains("nothere.json: error: cannot open the persona file: no such file"))
            #expect(!result.stderr.contains("--persona"))
        }

        // MARK: tools

        @Test func toolsShowsEveryVerdictAsRunWouldApplyIt() throws {
            let persona = Self.root + "/Personas/support-reader.json"
            let result = try runShim(["tools", persona])
            #expect(result.status == .exited(0), "\(result.stderr)")
            #expect(result.stdout.contains(#"visible  crm__get_ticket"#))
            #expect(result.stdout.contains(#"tools.allow["crm__get_*"]"#))
            #expect(result.stdout.contains(#"hidden   billing__adjust_balance  tools.deny["billing__adjust_balance"]"#))
            #expect(result.stdout.contains("default-deny"))
            #expect(result.stdout.contains("Every allow pattern matched at least one tool."))
            #expect(result.stdout.contains("Tool list the agent sees: 4 of 7 tools"))

            let json = try JSONValue(parsing: try runShim(["tools", persona, "--json"]).stdout)
            let tools = try #require(json["tools"]?.arrayValue)
            let visible = tools.filter { $0["visible"] == .bool(true) }.compactMap { $0["name"]?.stringValue }
            #expect(visible == ["crm__search_tickets", "crm__get_ticket", "crm__get_customer", "billing__get_invoice"])
            let shim = try ShimProcess(persona: try String(contentsOfFile: persona, encoding: .utf8))
            try shim.initialize()
            #expect(try shim.toolNames() == visible)
            let visibleBytes = try #require(json["visibleList"]?["bytes"]?.intValue)
            let allBytes = try #require(json["unfilteredList"]?["bytes"]?.intValue)
            #expect(visibleBytes < allBytes)
            #expect(json["unfilteredList"]?["approxTokens"]?.intValue == (allBytes + 3) / 4)
            #expect(json["servers"]?[0]?["status"] == "ready")
        }

        @Test func toolsVerdictsEqualTheListAnAgentGets() throws {
            let persona = personaJSON(
                servers: [("fx", fixture(["--tools", "6", "--page-size", "2"]))], allow: ["fx__*"], deny: ["fx__blob"])
            let shim = try ShimProcess(persona: persona)
            try shim.initialize()
            let agentSees = try shim.toolNames()
            let json = try JSONValue(parsing: try runShim(["tools", shim.personaPath, "--json"]).stdout)
            let visible = (json["tools"]?.arrayValue ?? []).filter { $0["visible"] == .bool(true) }
                .compactMap { $0["name"]?.stringValue }
            #expect(!agentSees.isEmpty)
            #expect(visible == agentSees)
        }

        @Test func toolsReportsPatternsThatMatchedNothingAndAnEmptyList() throws {
            let scratch = Scratch()
            let path = scratch.write("p.json", personaJSON(servers: [], allow: ["git__*"]))
            let result = try runShim(["tools", path, "--", Binaries.fixture])
            #expect(result.status == .exited(0), "\(result.stderr)")
            #expect(result.stderr.contains(#"is named "persona-fixture""#), "\(result.stderr)")
            #expect(result.stdout.contains(#"Allow patterns that matched no tool: "git__*""#), "\(result.stdout)")
            #expect(result.stdout.contains("The agent will see no tools at all."))
        }

        @Test func aServerThatFailsIsReportedAndTheCommandFails() throws {
            let scratch = Scratch()
            let path = scratch.write(
                "p.json",
                personaJSON(
                    servers: [
                        ("ok", fixture()), ("broken", fixture(["--crash-on-start"])),
                        ("gone", ["command": "no-such-mcp-server"]),
                    ],
                    allow: ["*"]))
            let result = try runShim(["tools", path])
            #expect(result.status == .exited(1))
            #expect(result.stdout.contains("broken: FAILED to start"), "\(result.stdout)")
            #expect(result.stderr.contains(#"server "gone" could not find the command "no-such-mcp-server""#))
            #expect(result.stdout.contains("visible  ok__echo"))
            let json = try JSONValue(parsing: try runShim(["tools", path, "--json"]).stdout)
            #expect(json["servers"]?[1]?["status"] == "failed")
        }

        // MARK: --servers with a client's own config

        /// The README's `--servers ~/.config/Claude/claude_desktop_config.json`: the file registers persona-shim
        /// itself. Run in a PID namespace of its own with a watchdog, so a regression cannot take the machine down.
        @Test func aClientConfigThatRegistersTheShimItselfIsSafe() throws {
            let scratch = Scratch()
            let personaPath = scratch.write(
                "persona.json",
                #"{"persona":"p","purpose":"p","owner":"o","reviewBy":"2099-01-01","tools":{"allow":["crm__get_ticket"]}}"#
            )
            let configPath = scratch.path + "/claude_desktop_config.json"
            let config: JSONValue = [
                "mcpServers": [
                    "support": [
                        "command": "persona-shim",
                        "args": ["--persona", .string(personaPath), "--servers", .string(configPath)],
                    ],
                    "support-by-path": [
                        "command": .string(Binaries.shim),
                        "args": ["--persona", .string(personaPath), "--servers", .string(configPath)],
                    ],
                    "crm": ["command": "persona-shim", "args": ["example-server", "crm"]],
                    "remote": ["url": "https://example.com/mcp"],
                ]
            ]
            _ = scratch.write("claude_desktop_config.json", JSONWriter.string(config))
            let client = try StdioClient(
                ChildCommand(
                    executable: "/usr/bin/unshare",
                    arguments: [
                        "--pid", "--fork", "--kill-child", Binaries.shim, "run", "--persona", personaPath, "--servers",
                        configPath, "--audit", scratch.path + "/audit.jsonl",
                    ]),
                environment: ["PATH": Binaries.folder + ":/usr/bin:/bin", "HOME": scratch.path])
            let watchdog = Watchdog(marker: configPath, limit: 10, pid: client.pid)
            defer { watchdog.stop() }
            let reply = client.request(
                "initialize",
                params: [
                    "protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"],
                ],
                id: 0)
            // A shim that started itself is killed by the watchdog: stop here rather than write into a closed pipe.
            try #require(reply.response?["result"] != nil, "no answer; the watchdog fired: \(watchdog.fired)")
            try client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            let list = client.request("tools/list", id: 1)
            let names = list.response?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["crm__get_ticket"])
            client.closeInput()
            _ = client.waitForExit(timeout: 15)
            let stderr = client.completeStandardError(timeout: 5)
            #expect(stderr.contains(#"skipping server "support": it starts persona-shim itself"#), "\(stderr)")
            #expect(stderr.contains(#"skipping server "support-by-path": it starts persona-shim itself"#))
            #expect(stderr.contains(#"skipping server "remote": it is a remote server"#))
            #expect(!watchdog.fired)
        }

        // MARK: digest

        @Test func digestMatchesTheAuditRecord() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let arguments = #"{"text": "hi", "n": 1e400, "nested": {"b": 1, "a": "é"}}"#
            let line =
                #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"fx__echo","arguments":"#
                + arguments + "}}"
            _ = try shim.roundTrip(line)
            let record = shim.auditRecords().first { $0["event"] == "call.decision" && $0["tool"] == "fx__echo" }
            let result = try runShim(["digest", arguments])
            #expect(result.status == .exited(0))
            #expect(result.stdout == (record?["argsDigest"]?.stringValue ?? "none") + "\n")
            #expect(try runShim(["digest", "{\"a\":"]).status == .exited(65))
        }

        // MARK: a terminal on stdin

        @Test func runInATerminalSaysWhatItIs() throws {
            let scratch = Scratch()
            let path = scratch.write("p.json", personaJSON(servers: [("fx", fixture())], allow: ["fx__*"]))
            // `script` gives the shim a pseudo-terminal as stdin; the shim waits for an agent, so end it at once.
            let command =
                "timeout --foreground 3 \(Binaries.shim) run --persona \(path) --audit \(scratch.path)/a.jsonl"
            let result = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"])
            #expect(result.stdout.contains("persona-shim speaks MCP on stdin/stdout"), "\(result.stdout)")
            #expect(result.stdout.contains("persona-shim tools \(path)"))
        }
    }
}

/// Runs a program other than the shim to completion, for tests that need one in between.
func runProgram(_ executable: String, _ arguments: [String]) throws -> (
    status: PersonaShim.ExitStatus?, stdout: String, stderr: String
) {
    let client = try StdioClient(
        ChildCommand(executable: executable, arguments: arguments),
        environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "TERM": "dumb"])
    var output: [UInt8] = []
    while let line = client.readLine(timeout: 30) { output += line + [0x0A] }
    let status = client.waitForExit(timeout: 30)
    client.closeInput()
    return (status, String(decoding: output, as: UTF8.self), client.completeStandardError(timeout: 10))
}

/// Kills a process tree whose processes (found by a marker in their command line) grow past a limit.
final class Watchdog: @unchecked Sendable {
    private let done = NSLock()
    private var stopped = false
    private(set) var fired = false

    init(marker: String, limit: Int, pid: pid_t) {
        Thread.detachNewThread { [self] in
            while !isStopped {
                if Self.count(marker) > limit {
                    fired = true
                    kill(pid, SIGKILL)
                }
                usleep(50_000)
            }
        }
    }

    private var isStopped: Bool { done.withLock { stopped } }
    func stop() { done.withLock { stopped = true } }

    static func count(_ marker: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.filter { pid in
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
            return String(decoding: data, as: UTF8.self).contains(marker)
        }.count
    }
}
