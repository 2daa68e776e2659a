import Platform

/// Starts one MCP server, shakes hands the way the shim does and lists its tools, then lets it go:
/// what `persona-shim tools` shows a persona's owner without an agent.
enum ServerProbe {
    /// What a server offered, or why it offered nothing.
    struct Outcome {
        var server: String
        var tools: [JSONObject]?
        var failure: String?
    }

    static let maximumPages = 1000

    static func listTools(
        _ server: ServerSpec, selfExecutable: String, environment parent: [String: String], timeout: Double
    ) -> Outcome {
        var command = server.command
        if command.executable == "persona-shim" { command.executable = selfExecutable }
        let environment = ChildEnvironment.build(parent: parent, declared: command.environment)
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard
            ExecutableResolver.resolve(
                command.executable, searchPath: searchPath, workingDirectory: command.workingDirectory) != nil
        else {
            return Outcome(
                server: server.name, tools: nil,
                failure:
                    "could not find the command \"\(command.executable)\" (searched PATH \(searchPath)); check the server's \"command\""
            )
        }
        let client: StdioClient
        do {
            client = try StdioClient(command, environment: environment)
        } catch {
            return Outcome(server: server.name, tools: nil, failure: "could not be started: \(error)")
        }
        defer {
            client.closeInput()
            if client.waitForExit(timeout: 2) == nil { ProcessGroup.signal(client.pid, SIGTERM) }
        }
        func failed(_ reason: String) -> Outcome {
            let lastLines = client.standardError.split(separator: "\n").suffix(5)
            let errors = lastLines.isEmpty ? "" : "; its last words on stderr: " + lastLines.joined(separator: " | ")
            return Outcome(server: server.name, tools: nil, failure: reason + errors)
        }
        let initialize = client.request(
            "initialize",
            params: [
                "protocolVersion": .string(MCPProtocol.latestVersion), "capabilities": [:],
                "clientInfo": ["name": "persona-shim", "version": .string(PersonaShimCLI.version)],
            ], id: 0, timeout: timeout)
        guard let response = initialize.response else {
            if let status = client.waitForExit(timeout: 0.1) {
                return failed("exited (\(status)) before answering initialize")
            }
            return failed("did not answer initialize within \(Int(timeout)) s")
        }
        guard let result = response["result"] else {
            return failed("refused initialize: \(response["error"]?["message"]?.stringValue ?? "no reason given")")
        }
        let version = result["protocolVersion"]?.stringValue
        guard let version, MCPProtocol.supportedVersions.contains(version) else {
            return failed("answered initialize with unsupported protocol version \(version ?? "none")")
        }
        try? client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        guard result["capabilities"]?["tools"] != nil else { return Outcome(server: server.name, tools: []) }
        var tools: [JSONObject] = []
        var cursor: String?
        for page in 1...maximumPages {
            let params: JSONValue? = cursor.map { ["cursor": .string($0)] }
            let reply = client.request("tools/list", params: params, id: .integer(page), timeout: timeout)
            guard let items = reply.response?["result"]?["tools"]?.arrayValue else {
                let message = reply.response?["error"]?["message"]?.stringValue
                return failed("tools/list failed: \(message ?? "no answer within \(Int(timeout)) s")")
            }
            tools += items.compactMap(\.objectValue)
            cursor = reply.response?["result"]?["nextCursor"]?.stringValue
            if cursor == nil { return Outcome(server: server.name, tools: tools) }
        }
        return failed("tools/list still had more pages after \(maximumPages)")
    }
}
