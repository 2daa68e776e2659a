// The request loop of the example servers: lifecycle, ping, tools/list (paginated) and tools/call.

/// A single-threaded MCP server over stdin/stdout that serves a fixed list of tools.
///
/// Every request (a message with an "id" and a "method") gets exactly one response; notifications and stray
/// responses are ignored. The id is echoed byte-for-byte as the client wrote it.
package final class ExampleStdioServer {
    /// Runs a tool with arguments that already passed the tool's input schema.
    package typealias Handler =
        (_ tool: String, _ arguments: ExampleJSON) throws(ExampleProtocolError) -> ExampleToolResult

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
        while let response = reader.nextLine({ handle(line: $0) }) {
            if let response { writer.send(response) }
        }
        return 0
    }

    /// The response line for one input line, or nil when none is due.
    private func handle(line: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let scanner = RawJSONScanner(line)
        guard let top = scanner.topLevelValue() else {
            // Blank lines are harmless keep-alives from some clients; anything else is a parse error.
            if scanner.skipWhitespace(from: 0) == line.count { return nil }
            return RawResponseFraming.errorLine(
                id: RawResponseFraming.nullID, code: ExampleProtocol.parseError, message: "Parse error")
        }
        let message: ExampleJSON
        do {
            message = try ExampleJSON.parse(line)
        } catch {
            return RawResponseFraming.errorLine(
                id: RawResponseFraming.nullID, code: ExampleProtocol.parseError, message: "Parse error: \(error)")
        }
        guard message.objectPairs != nil else {
            return RawResponseFraming.errorLine(
                id: RawResponseFraming.nullID, code: ExampleProtocol.invalidRequest, message: "Invalid Request")
        }
        let rawID = scanner.member("id", in: top).map { Array(UnsafeBufferPointer(rebasing: line[$0])) }
        guard let method = message["method"]?.stringValue else {
            // A response to a request we never sent, or a batch-less malformed message: nothing sensible to answer
            // unless it carries an id and is plainly not a response.
            guard let rawID, message["result"] == nil, message["error"] == nil else { return nil }
            return RawResponseFraming.errorLine(
                id: rawID, code: ExampleProtocol.invalidRequest, message: "Invalid Request")
        }
        let params = message["params"] ?? [:]
        guard let rawID else {
            if logCalls { StdioIO.log("\(name): notification \(method)") }
            return nil
        }
        do {
            let result = try respond(method: method, params: params)
            return RawResponseFraming.resultLine(id: rawID, result: result.compactBytes)
        } catch {
            if logCalls { StdioIO.log("\(name): \(method) failed: \(error.message)") }
            return RawResponseFraming.errorLine(id: rawID, code: error.code, message: error.message)
        }
    }

    private func respond(method: String, params: ExampleJSON) throws(ExampleProtocolError) -> ExampleJSON {
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
            throw ExampleProtocolError(code: ExampleProtocol.methodNotFound, message: "Method not found: \(method)")
        }
    }

    private func listTools(cursor: ExampleJSON?) throws(ExampleProtocolError) -> ExampleJSON {
        let pageSize = self.pageSize ?? max(tools.count, 1)
        var offset = 0
        if let cursor, cursor != .null {
            let offsets = stride(from: pageSize, to: tools.count, by: pageSize)
            guard let text = cursor.stringValue, let decoded = ExamplePageCursor.decode(text, validOffsets: offsets)
            else {
                throw ExampleProtocolError(code: ExampleProtocol.invalidParams, message: "Invalid cursor")
            }
            offset = decoded
        }
        let end = min(offset + pageSize, tools.count)
        var result: ExampleJSON = ["tools": .array(tools[offset..<end].map(\.definition))]
        if end < tools.count {
            result = result.setting("nextCursor", to: .string(ExamplePageCursor.encode(offset: end)))
        }
        return result
    }

    private func callTool(params: ExampleJSON) throws(ExampleProtocolError) -> ExampleJSON {
        guard let toolName = params["name"]?.stringValue else {
            throw ExampleProtocolError(
                code: ExampleProtocol.invalidParams, message: "tools/call requires a string \"name\"")
        }
        guard let tool = tools.first(where: { $0.name == toolName }) else {
            throw ExampleProtocolError(code: ExampleProtocol.invalidParams, message: "Unknown tool: \(toolName)")
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
            StdioIO.log("\(name): tools/call \(toolName) \(arguments.compactText) -> \(outcome)")
        }
        return result.json
    }
}
