// The request loop of the example servers: lifecycle, ping, tools/list (paginated) and tools/call.

import MCPWire

/// A single-threaded MCP server over stdin/stdout that serves a fixed list of tools.
///
/// Every request (a message with an "id" and a "method") gets exactly one response; notifications and stray
/// responses are ignored. The id is echoed byte-for-byte as the client wrote it.
package final class ExampleStdioServer {
    /// Runs a tool with arguments that already passed the tool's input schema.
    package typealias Handler =
        (_ tool: String, _ arguments: JSONValue) throws(ExampleProtocolError) -> ExampleToolResult

    private let name: String
    private let version: String
    private let instructions: String?
    private let tools: [ExampleTool]
    private let pageSize: Int?
    private let logCalls: Bool
    private let handler: Handler

    /// - Parameters:
    ///   - pageSize: tools per tools/list page; nil serves every tool in one page.
    ///   - logCalls: write one line per request to stderr.
    package init(
        name: String, version: String, instructions: String? = nil, tools: [ExampleTool], pageSize: Int? = nil,
        logCalls: Bool = false, handler: @escaping Handler
    ) {
        self.name = name
        self.version = version
        self.instructions = instructions
        self.tools = tools
        self.pageSize = pageSize.map { max($0, 1) }
        self.logCalls = logCalls
        self.handler = handler
    }

    /// Serves until end of input; returns the process exit status (0).
    package func run() -> Int32 {
        StdioIO.ignoreSIGPIPE()
        let reader = StdioLineReader()
        let writer = StdioLineWriter()
        while let line = reader.nextLine() {
            if let response = handle(reader.bytes, line) { writer.send(response) }
        }
        return 0
    }

    /// The response line for one input line, or nil when none is due (notifications, responses, blank lines).
    private func handle(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) -> [UInt8]? {
        let envelope: MessageEnvelope
        do {
            envelope = try MessageEnvelope.scan(bytes, range: line)
        } catch {
            if StdioIO.isBlank(bytes, line) { return nil }
            return Message.error(id: error.id.map { bytes[$0] }, code: error.code, message: error.message)
        }
        guard let method = envelope.method else { return nil }
        guard let id = envelope.id.map({ bytes[$0] }) else {
            if logCalls { StdioIO.log("\(name): notification \(method)") }
            return nil
        }
        var params: JSONValue = [:]
        if let range = envelope.params {
            // The scan validated the line; the full parser also refuses a key repeated deeper down.
            do { params = try JSONValue.parse(bytes, range: range) } catch {
                return Message.error(id: id, code: JSONRPCError.parseError, message: "Parse error: \(error)")
            }
        }
        do {
            return Message.response(id: id, result: try respond(method: method, params: params))
        } catch {
            if logCalls { StdioIO.log("\(name): \(method) failed: \(error.message)") }
            return Message.error(id: id, code: error.code, message: error.message)
        }
    }

    private func respond(method: String, params: JSONValue) throws(ExampleProtocolError) -> JSONValue {
        switch method {
        case "initialize":
            if logCalls { StdioIO.log("\(name): initialize") }
            return ExampleProtocol.initializeResult(
                requestedVersion: params["protocolVersion"]?.stringValue, serverName: name, serverVersion: version,
                instructions: instructions)
        case "ping":
            return [:]
        case "tools/list":
            if logCalls { StdioIO.log("\(name): tools/list") }
            return try listTools(cursor: params["cursor"])
        case "tools/call":
            return try callTool(params: params)
        default:
            throw ExampleProtocolError(code: JSONRPCError.methodNotFound, message: "Method not found: \(method)")
        }
    }

    private func listTools(cursor: JSONValue?) throws(ExampleProtocolError) -> JSONValue {
        let pageSize = self.pageSize ?? max(tools.count, 1)
        var offset = 0
        if let cursor, cursor != .null {
            let offsets = stride(from: pageSize, to: tools.count, by: pageSize)
            guard let text = cursor.stringValue, let decoded = ExamplePageCursor.decode(text, validOffsets: offsets)
            else {
                throw ExampleProtocolError(code: JSONRPCError.invalidParams, message: "Invalid cursor")
            }
            offset = decoded
        }
        let end = min(offset + pageSize, tools.count)
        var result: JSONValue = ["tools": .array(tools[offset..<end].map(\.definition))]
        if end < tools.count {
            result = result.setting("nextCursor", to: .string(ExamplePageCursor.encode(offset: end)))
        }
        return result
    }

    private func callTool(params: JSONValue) throws(ExampleProtocolError) -> JSONValue {
        guard let toolName = params["name"]?.stringValue else {
            throw ExampleProtocolError(
                code: JSONRPCError.invalidParams, message: "tools/call requires a string \"name\"")
        }
        guard let tool = tools.first(where: { $0.name == toolName }) else {
            throw ExampleProtocolError(code: JSONRPCError.invalidParams, message: "Unknown tool: \(toolName)")
        }
        let arguments = params["arguments"] ?? [:]
        let result: ExampleToolResult
        if let problem = arguments.violation(of: tool.inputSchema) {
            result = .failure("Invalid arguments for \(toolName): \(problem)")
        } else {
            result = try handler(toolName, arguments)
        }
        if logCalls {
            let outcome = result.isError ? "error: \(result.text)" : "ok"
            StdioIO.log("\(name): tools/call \(toolName) \(arguments) -> \(outcome)")
        }
        return result.json
    }
}
