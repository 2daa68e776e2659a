import Foundation
import Testing

@testable import PersonaShim

/// Drives a `SessionCore` in-process: no processes, no pipes, a fake clock. Lines go in as the shell would hand
/// them over; what the core queued for the agent and each server comes out as parsed JSON objects.
final class CoreHarness {
    let core: SessionCore
    let auditPath: String
    private let agentReader = LineReader(limit: 1 << 20)
    private var serverReaders: [LineReader]

    /// `persona` is a persona file's text; its servers' commands are never run.
    init(persona: String, auditPath: String? = nil) throws {
        let directory = NSTemporaryDirectory() + "core-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.auditPath = auditPath ?? directory + "/audit.jsonl"
        let loaded = PersonaLoader.decode(bytes: Array(persona.utf8), path: directory + "/persona.json")
        let persona = try #require(loaded.persona, "\(loaded.diagnostics.map(\.description))")
        var configuration = ShimConfiguration(
            persona: persona, auditPath: self.auditPath, selfExecutable: "/nonexistent/persona-shim", environment: [:],
            logger: Logger(level: .error), version: "test")
        configuration.processID = 4242
        let audit = AuditLog(
            path: self.auditPath, fsync: false, session: "test-session", persona: persona.name, user: "tester")
        core = SessionCore(configuration: configuration, audit: audit)
        core.now = 1_000_000_000
        serverReaders = persona.servers.map { _ in LineReader(limit: 1 << 20) }
    }

    // MARK: Driving

    /// The agent sends `line`; its decisions are then written, as the shell does at the end of each read.
    func agent(_ line: String) {
        agentReader.feed(Array((line + "\n").utf8))
        while let event = agentReader.next() {
            if case .line(let range) = event { core.handleAgentLine(agentReader.bytes, range) }
        }
        core.commitAudit()
    }

    /// Server `index` sends `line`.
    func server(_ index: Int, _ line: String) {
        let reader = serverReaders[index]
        reader.feed(Array((line + "\n").utf8))
        while let event = reader.next() {
            if case .line(let range) = event { core.handleServerLine(index, from: reader, range) }
        }
        core.commitAudit()
    }

    /// Moves the fake clock on and fires whatever is due.
    func advance(seconds: Double) {
        core.now += UInt64(seconds * 1e9)
        core.fireTimers()
    }

    // MARK: Reading what the core produced

    func agentMessages() -> [[String: Any]] { Self.parse(core.agentOutput.takeAll()) }

    /// What server `index` would be sent now (only what its audit records cover).
    func serverMessages(_ index: Int) -> [[String: Any]] { Self.parse(core.output(for: index).takeAll()) }

    func auditRecords() throws -> [[String: Any]] {
        core.commitAudit()
        guard let data = FileManager.default.contents(atPath: auditPath) else { return [] }
        return Self.parse(Array(data))
    }

    static func parse(_ bytes: [UInt8]) -> [[String: Any]] {
        bytes.split(separator: UInt8(ascii: "\n")).map { line in
            (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [
                "unparseable": String(decoding: line, as: UTF8.self)
            ]
        }
    }

    // MARK: Bringing servers up

    /// The agent initializes; the core asks the shell to start every server.
    func initializeAgent(capabilities: String = "{}") -> [SessionAction] {
        agent(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":\#(capabilities),"clientInfo":{"name":"core-test","version":"1"}}}"#
        )
        return core.takeActions()
    }

    /// Server `index` starts and completes its handshake offering `tools` (names) and the given capabilities.
    func bringUp(_ index: Int, tools: [String], capabilities: String = #"{"tools":{}}"#) throws {
        core.serverStarted(index, pid: Int32(1000 + index), command: "/bin/fake-\(index)")
        // A modern agent's servers are probed first; a legacy agent's get initialize at once.
        if core.agentEra == .modern { try answerProbeAsLegacy(index) }
        let initialize = try #require(serverMessages(index).first)
        #expect(initialize["method"] as? String == "initialize")
        let id = try #require(initialize["id"] as? Int)
        server(
            index,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"protocolVersion":"2025-11-25","capabilities":\#(capabilities),"serverInfo":{"name":"fake","version":"1"}}}"#
        )
        for message in serverMessages(index) where message["method"] as? String == "tools/list" {
            let listID = try #require(message["id"] as? Int)
            let definitions = tools.map { #"{"name":"\#($0)","inputSchema":{"type":"object"}}"# }
            server(
                index, #"{"jsonrpc":"2.0","id":\#(listID),"result":{"tools":[\#(definitions.joined(separator: ","))]}}"#
            )
        }
    }

    /// Server `index` answers the shim's `server/discover` probe as a legacy server does: the method is unknown.
    func answerProbeAsLegacy(_ index: Int) throws {
        let probe = try #require(serverMessages(index).first)
        #expect(probe["method"] as? String == "server/discover")
        let id = try #require(probe["id"] as? Int)
        server(index, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32601,"message":"Method not found"}}"#)
    }

    /// Server `index` starts and answers the probe as a modern (2026-07-28) server offering `tools` (a legacy
    /// agent's server first refuses initialize, as a modern-only server does).
    func bringUpModern(_ index: Int, tools: [String], capabilities: String = #"{"tools":{}}"#) throws {
        core.serverStarted(index, pid: Int32(1000 + index), command: "/bin/fake-\(index)")
        if core.agentEra != .modern {
            let initialize = try #require(serverMessages(index).first)
            #expect(initialize["method"] as? String == "initialize")
            let id = try #require(initialize["id"] as? Int)
            server(index, #"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32601,"message":"stateless only"}}"#)
        }
        let probe = try #require(serverMessages(index).first)
        #expect(probe["method"] as? String == "server/discover")
        let id = try #require(probe["id"] as? Int)
        server(
            index,
            #"{"jsonrpc":"2.0","id":\#(id),"result":{"resultType":"complete","supportedVersions":["2026-07-28"],"capabilities":\#(capabilities),"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"modern","version":"1"}},"ttlMs":0,"cacheScope":"public"}}"#
        )
        for message in serverMessages(index) where message["method"] as? String == "tools/list" {
            let listID = try #require(message["id"] as? Int)
            let definitions = tools.map { #"{"name":"\#($0)","inputSchema":{"type":"object"}}"# }
            server(
                index,
                #"{"jsonrpc":"2.0","id":\#(listID),"result":{"resultType":"complete","tools":[\#(definitions.joined(separator: ","))],"ttlMs":0,"cacheScope":"public"}}"#
            )
        }
        // Once ready, the shim listens for the server's list changes.
        let listen = serverMessages(index)
        #expect(listen.map { $0["method"] as? String } == ["subscriptions/listen"])
    }

    /// The id under which server `index` received the request for `method` with the tool `name`, if it did.
    static func id(of messages: [[String: Any]], method: String) -> Int? {
        messages.first { $0["method"] as? String == method }?["id"] as? Int
    }
}

extension [String: Any] {
    var errorCode: Int? { (self["error"] as? [String: Any])?["code"] as? Int }
    var result: [String: Any]? { self["result"] as? [String: Any] }
}
