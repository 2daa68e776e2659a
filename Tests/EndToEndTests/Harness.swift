import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built executables, found next to the test bundle in `.build/<config>/`.
enum Binaries {
    static let folder: String = {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink("/proc/self/exe", &buffer, 4096)
        let path = String(decoding: buffer[..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }()
    static var shim: String { folder + "/persona-shim" }
    static var fixture: String { folder + "/persona-fixture" }
}

/// A scratch folder for one test, removed when the test's harness goes away.
final class Scratch {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("ps-e2e-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }
}

/// A server entry for a persona: the fixture with the given options.
func fixture(_ options: [String] = []) -> JSONValue {
    ["command": .string(Binaries.fixture), "args": .array(options.map(JSONValue.string))]
}

/// A persona document with sensible defaults.
func personaJSON(
    servers: [(String, JSONValue)], allow: [String], deny: [String] = [], extra: [(String, JSONValue)] = []
) -> String {
    var object = JSONObject([
        ("persona", "test-persona"), ("purpose", "Exercises the shim in tests."), ("owner", "tests@example.com"),
        ("reviewBy", "2099-01-01"), ("servers", .object(JSONObject(servers.map { (key: $0.0, value: $0.1) }))),
        ("tools", ["allow": .array(allow.map(JSONValue.string)), "deny": .array(deny.map(JSONValue.string))]),
    ])
    for (key, value) in extra { object[key] = value }
    return JSONWriter.string(.object(object))
}

/// The shim binary under test, spoken to as an agent would.
final class ShimProcess {
    let scratch = Scratch()
    let client: StdioClient
    let auditPath: String
    let personaPath: String

    init(persona: String, arguments: [String] = [], environment: [String: String] = [:], audit: String? = nil) throws {
        personaPath = scratch.write("persona.json", persona)
        auditPath = audit ?? scratch.path + "/audit.jsonl"
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path]
        for (key, value) in environment { env[key] = value }
        client = try StdioClient(
            ChildCommand(
                executable: Binaries.shim,
                arguments: ["run", "--persona", personaPath, "--audit", auditPath] + arguments),
            environment: env)
    }

    convenience init(
        servers: [(String, JSONValue)], allow: [String], deny: [String] = [], extra: [(String, JSONValue)] = [],
        arguments: [String] = [], environment: [String: String] = [:], audit: String? = nil
    ) throws {
        try self.init(
            persona: personaJSON(servers: servers, allow: allow, deny: deny, extra: extra), arguments: arguments,
            environment: environment, audit: audit)
    }

    deinit {
        client.closeInput()
        _ = client.waitForExit(timeout: 10)
    }

    @discardableResult
    func initialize(version: String = "2025-11-25", capabilities: JSONValue = [:]) throws -> JSONValue {
        let reply = client.request(
            "initialize",
            params: [
                "protocolVersion": .string(version), "capabilities": capabilities,
                "clientInfo": ["name": "e2e-agent", "version": "9.9"],
            ], id: 0)
        let response = try #require(reply.response, "no initialize response; stderr: \(client.standardError)")
        try client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        return response
    }

    func toolNames() throws -> [String] {
        let reply = client.request("tools/list", id: "list")
        let tools = try #require(reply.response?["result"]?["tools"]?.arrayValue, "stderr: \(client.standardError)")
        return tools.compactMap { $0["name"]?.stringValue }
    }

    func call(_ name: String, _ arguments: JSONValue = [:], id: JSONValue = 1, timeout: Double = 20) -> JSONValue? {
        client.request("tools/call", params: ["name": .string(name), "arguments": arguments], id: id, timeout: timeout)
            .response
    }

    /// Sends a raw line and returns the next line the shim writes.
    func roundTrip(_ line: String, timeout: Double = 10) throws -> String {
        try client.send(line)
        let reply = try #require(client.readLine(timeout: timeout), "no reply to \(line)")
        return String(decoding: reply, as: UTF8.self)
    }

    /// The audit records so far. Outcome records may wait up to 50 ms to share a write with the next decision,
    /// so this first waits twice that.
    func auditRecords() -> [JSONValue] {
        usleep(100_000)
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
    }

    /// Closes stdin and waits for a clean exit.
    func finish(timeout: Double = 15) -> PersonaShim.ExitStatus? {
        client.closeInput()
        return client.waitForExit(timeout: timeout)
    }
}

/// Whether a process with this pid is still alive (a zombie awaiting its reaper counts as gone).
func processIsAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    let state = stat.split(separator: ")").last?.split(separator: " ").first
    return state != "Z"
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

func readPID(_ path: String) -> pid_t? {
    guard eventually(timeout: 10, { FileManager.default.fileExists(atPath: path) }) else { return nil }
    var pid: pid_t?
    _ = eventually(timeout: 5) {
        pid = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
            pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return pid != nil
    }
    return pid
}

/// Runs the shim binary to completion with the given arguments, for CLI tests.
func runShim(_ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: PersonaShim.ExitStatus?, stdout: String, stderr: String
) {
    var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    for (key, value) in environment { env[key] = value }
    let client = try StdioClient(ChildCommand(executable: Binaries.shim, arguments: arguments), environment: env)
    client.closeInput()
    var output: [UInt8] = []
    while let line = client.readLine(timeout: 30) { output += line + [0x0A] }
    let status = client.waitForExit(timeout: 30)
    return (status, String(decoding: output, as: UTF8.self), client.completeStandardError(timeout: 10))
}
