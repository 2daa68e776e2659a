// The binaries under test, the temporary folder, and the setups built from them.

import Foundation
import MCPWire
import PersonaShim
import Platform

/// One way of putting fixture servers behind a pipe, and what the client calls through it.
struct Setup {
    /// Stable identifier, used in --only and the JSON output, e.g. "shim3".
    let id: String
    /// What the tables call it, e.g. "shim ×3".
    let label: String
    let executable: String
    let arguments: [String]
    /// Echo tools, called round-robin (one per server).
    let echoTools: [String]
    let blobTool: String
    /// How many tools tools/list must return (the persona's filtering included).
    let expectedTools: Int
    /// Only the start-up and tools/list phases run (the ×5 catalogue case).
    let listOnly: Bool
    /// The audit trail the persona writes, removed after each session.
    let auditPath: String?
    /// The agent speaks 2026-07-28: no initialize, the protocol version and capabilities in every request's `_meta`.
    var modern = false

    /// What every request's params carry in `_meta` (nil for a handshake-era agent).
    var meta: String? {
        modern
            ? #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"persona-bench","version":"1"}}"#
            : nil
    }
}

/// The sibling binaries and a temporary folder for personas and audit trails, removed by `cleanUp()`.
final class Workspace {
    let folder: String
    let shim: String
    let fixture: String
    let relay: String
    /// Generated tools per fixture in the main setups, and in the ×5 catalogue case.
    static let tools = 40
    static let manyTools = 200

    init() throws(BenchFailure) {
        let binaries = Self.ownFolder()
        shim = binaries + "/persona-shim"
        fixture = binaries + "/persona-fixture"
        relay = binaries + "/persona-relay"
        for path in [shim, fixture, relay] where access(path, X_OK) != 0 {
            throw BenchFailure(
                "\(path) is missing: persona-bench runs the binaries built next to it. Build them all first "
                    + "(swift build -c release), then run persona-bench again.")
        }
        let temporary = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("persona-bench-XXXXXX")
        var template = Array(temporary.path.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BenchFailure("cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        folder = String(cString: made)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The folder holding this executable.
    private static func ownFolder() -> String {
        let path = OS.executablePath() ?? ""
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    // MARK: Setups

    /// direct, relay, shim, shim + rules, shim with a 2026-07-28 agent, shim ×3, shim ×5 (1000 tools): the main
    /// comparison, in this order.
    func mainSetups() throws(BenchFailure) -> [Setup] {
        let fixtureArguments = ["--tools", String(Self.tools)]
        return [
            Setup(
                id: "direct", label: "direct", executable: fixture, arguments: fixtureArguments,
                echoTools: ["echo"], blobTool: "blob", expectedTools: 8 + Self.tools, listOnly: false, auditPath: nil),
            Setup(
                id: "relay", label: "relay", executable: relay, arguments: [fixture] + fixtureArguments,
                echoTools: ["echo"], blobTool: "blob", expectedTools: 8 + Self.tools, listOnly: false, auditPath: nil),
            try shimSetup(id: "shim", label: "shim", servers: 1, tools: Self.tools),
            try shimSetup(id: "rules", label: "shim + rules", servers: 1, tools: Self.tools, callRules: true),
            try shimSetup(
                id: "shimModern", label: "shim, 2026-07-28 agent", servers: 1, tools: Self.tools, modern: true),
            try shimSetup(id: "shim3", label: "shim ×3", servers: 3, tools: Self.tools),
            try shimSetup(
                id: "shim5", label: "shim ×5 (1000 tools)", servers: 5, tools: Self.manyTools, listOnly: true),
        ] + (try maskingSetups())
    }

    /// The shim over `servers` fixtures named fx1, fx2, ... under the benchmark persona.
    func shimSetup(
        id: String, label: String, servers: Int, tools: Int, listOnly: Bool = false, fsync: Bool = false,
        callRules: Bool = false,
        modern: Bool = false, blobSecrets: Bool = false, extra: [(String, JSONValue)] = []
    ) throws(BenchFailure) -> Setup {
        let names = (1...servers).map { "fx\($0)" }
        let auditPath = folder + "/audit-\(id).jsonl"
        let personaPath = folder + "/persona-\(id).json"
        let fixtureOptions = (callRules ? ["--policy-tools"] : []) + (blobSecrets ? ["--blob-secrets"] : [])
        let persona = personaJSON(
            servers: names.map { ($0, ["--name", $0, "--tools", String(tools)] + fixtureOptions) },
            auditPath: auditPath, fsync: fsync, extra: (callRules ? Self.callRules : []) + extra)
        guard FileManager.default.createFile(atPath: personaPath, contents: Data(persona.utf8)) else {
            throw BenchFailure("cannot write \(personaPath)")
        }
        var setup = Setup(
            id: id, label: label, executable: shim, arguments: ["run", "--persona", personaPath],
            echoTools: names.map { $0 + "__echo" }, blobTool: "fx1__blob",
            expectedTools: servers * (Self.exposedTools(generated: tools) + (callRules ? Self.policyTools : 0)),
            listOnly: listOnly, auditPath: auditPath)
        setup.modern = modern
        return setup
    }

    /// Tools the persona leaves visible on one fixture: all but crash, hang and tool_03*.
    static func exposedTools(generated: Int) -> Int {
        let denied = (0..<generated).filter { (30...39).contains($0) }.count
        return 8 - 2 + generated - denied
    }

    /// A persona with allow and deny patterns, write-ahead audit into the temporary folder, and a short call timeout
    /// (an answer the shim drops must not stall the run for its default five minutes).
    private func personaJSON(
        servers: [(String, [String])], auditPath: String, fsync: Bool, extra: [(String, JSONValue)]
    ) -> String {
        let serverEntries = servers.map { name, arguments -> (key: String, value: JSONValue) in
            (name, ["command": .string(fixture), "args": .array(arguments.map(JSONValue.string))])
        }
        let persona: JSONValue = .object(
            JSONObject(
                [
                    ("persona", "bench"),
                    ("purpose", "Measures persona-shim against a plain relay."),
                    ("owner", "bench@example.com"),
                    ("reviewBy", "2099-01-01"),
                    ("servers", .object(JSONObject(serverEntries))),
                    (
                        "tools",
                        [
                            "allow": ["fx*__*"],
                            "deny": ["fx*__crash", "fx*__hang", "fx*__tool_03*"],
                        ]
                    ),
                    ("audit", ["path": .string(auditPath), "fsync": .bool(fsync)]),
                    ("timeouts", ["callSeconds": 5]),
                ] + extra.map { (key: $0.0, value: $0.1) }))
        return JSONWriter.string(persona)
    }
}
