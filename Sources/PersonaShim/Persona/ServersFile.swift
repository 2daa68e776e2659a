import Platform

/// What a client configuration file is read against: this binary (to recognise entries that would start it
/// again), the environment and folders its `${...}` variables expand to.
public struct ServersFileContext: Sendable {
    public var selfExecutable: String
    public var environment: [String: String]
    /// What `${workspaceFolder}` means: the folder persona-shim was started in.
    public var workspaceFolder: String

    public init(selfExecutable: String, environment: [String: String], workspaceFolder: String) {
        self.selfExecutable = selfExecutable
        self.environment = environment
        self.workspaceFolder = workspaceFolder
    }

    public static var current: ServersFileContext {
        ServersFileContext(
            selfExecutable: PersonaShimCLI.selfExecutable, environment: ProcessEnvironment.current(),
            workspaceFolder: Paths.currentDirectory())
    }
}

extension PersonaLoader {
    /// Reads the servers of a client configuration file: Claude's `mcpServers` or VS Code's `servers`.
    ///
    /// A client's file is written for that client, so entries persona-shim cannot or must not run are skipped with
    /// a warning rather than failing the whole file: remote servers, disabled ones, and persona-shim itself (the
    /// file that registers persona-shim with a client would otherwise make it start itself without end).
    public static func loadServersFile(path: String, context: ServersFileContext = .current) -> (
        servers: [ServerSpec], diagnostics: [Diagnostic]
    ) {
        guard let bytes = Files.read(path) else {
            let reason = Files.exists(path) ? "it could not be read" : "no such file"
            return ([], [Diagnostic(.error, "cannot open the servers file given to --servers: \(reason)", file: path)])
        }
        let root: JSONValue
        let locations: JSONLocations
        do {
            (root, locations) = try JSONValue.parseWithLocations(bytes)
        } catch {
            let position = LineTable(bytes).position(of: error.offset)
            return (
                [],
                [
                    Diagnostic(
                        .error, "the servers file is not valid JSON: \(error.message)", file: path,
                        line: position.line, column: position.column)
                ]
            )
        }
        var decoder = PersonaDecoder(file: path, bytes: bytes, locations: locations)
        let key = root["mcpServers"] != nil ? "mcpServers" : "servers"
        guard root[key] != nil else {
            decoder.error(at: "", "a servers file needs an \"mcpServers\" (Claude) or \"servers\" (VS Code) object")
            return ([], decoder.diagnostics)
        }
        var reader = ServersFileReader(
            decoder: decoder, context: context, base: Paths.directory(of: absolute(path)))
        let servers = reader.servers(root[key], at: "/" + key)
        return (servers, reader.decoder.diagnostics)
    }
}

/// Decodes the entries of one client configuration file.
struct ServersFileReader {
    var decoder: PersonaDecoder
    let context: ServersFileContext
    let base: String

    mutating func servers(_ value: JSONValue?, at pointer: String) -> [ServerSpec] {
        guard let object = decoder.object(value, at: pointer, what: "\"servers\"") else { return [] }
        var servers: [ServerSpec] = []
        for (name, entry) in object.members {
            let entryPointer = pointer + "/" + JSONReader.escapePointer(name)
            guard let server = decoder.object(entry, at: entryPointer, what: "server \"\(name)\"") else { continue }
            if let spec = self.server(name, server, at: entryPointer) { servers.append(spec) }
        }
        return servers
    }

    mutating func server(_ name: String, _ server: JSONObject, at pointer: String) -> ServerSpec? {
        if decoder.bool(server, "disabled", at: pointer) == true {
            decoder.report(.warning, at: pointer + "/disabled", "skipping server \"\(name)\": it is disabled")
            return nil
        }
        if let type = decoder.string(server, "type", at: pointer), type != "stdio" {
            decoder.report(
                .warning, at: pointer + "/type",
                "skipping server \"\(name)\" of type \"\(type)\": persona-shim runs only stdio servers (a command it starts)"
            )
            return nil
        }
        if server["command"] == nil, server["url"] != nil {
            decoder.report(
                .warning, at: pointer + "/url",
                "skipping server \"\(name)\": it is a remote server (\"url\"); persona-shim runs only stdio servers (a command it starts)"
            )
            return nil
        }
        if !PersonaLoader.isValidName(name) {
            decoder.error(
                at: pointer, key: true,
                "server name \"\(name)\" may use only letters, digits, '.', '_' and '-' (at most 64 characters)")
        }
        guard
            let rawCommand = decoder.string(server, "command", at: pointer, required: true, what: "server \"\(name)\"")
        else { return nil }
        let command = expand(rawCommand, at: pointer + "/command")
        var arguments: [String] = []
        for (index, argument) in (decoder.stringArray(server, "args", at: pointer) ?? []).enumerated() {
            arguments.append(expand(argument, at: "\(pointer)/args/\(index)") ?? argument)
        }
        var environment: [String: String] = [:]
        if let file = decoder.string(server, "envFile", at: pointer),
            let expanded = expand(file, at: pointer + "/envFile")
        {
            environment = readEnvironmentFile(PersonaLoader.resolvePath(expanded, base: base), at: pointer + "/envFile")
        }
        for (key, value) in decoder.stringMap(server, "env", at: pointer) ?? [:] {
            environment[key] = expand(value, at: pointer + "/env/" + JSONReader.escapePointer(key)) ?? value
        }
        let cwd = decoder.string(server, "cwd", at: pointer).flatMap { expand($0, at: pointer + "/cwd") }
            .map { PersonaLoader.resolvePath($0, base: base) }
        guard let command else { return nil }
        let executable = command.contains("/") ? PersonaLoader.resolvePath(command, base: base) : command
        let spec = ServerSpec(
            name: name,
            command: ChildCommand(
                executable: executable, arguments: arguments, environment: environment, workingDirectory: cwd))
        if let found = startsThisShim(spec.command) {
            decoder.report(
                .warning, at: pointer,
                "skipping server \"\(name)\": it starts persona-shim itself (\(found)), which would read this file again and start itself without end; to nest a shim on purpose, declare it in the persona's \"servers\""
            )
            return nil
        }
        return spec
    }

    /// Whether `command` runs this very program as a shim: by the name `persona-shim`, or by a path that resolves
    /// to this binary. `persona-shim example-server` serves on its own and starts nothing, so it may stay.
    func startsThisShim(_ command: ChildCommand) -> String? {
        if command.arguments.first == "example-server" { return nil }
        if Paths.lastComponent(command.executable) == "persona-shim" { return command.executable }
        let searchPath = command.environment["PATH"] ?? context.environment["PATH"] ?? "/usr/bin:/bin"
        guard
            let resolved = ExecutableResolver.resolve(
                command.executable, searchPath: searchPath, workingDirectory: command.workingDirectory),
            let real = canonicalPath(resolved), real == canonicalPath(context.selfExecutable)
        else { return nil }
        return resolved
    }

    /// Expands the variables clients document: `${env:NAME}`, `${workspaceFolder}`, `${userHome}` (VS Code,
    /// Cursor) and `${NAME}`, `${NAME:-default}` (Claude Code). Anything else is an error, because a value passed
    /// on unexpanded would reach the server as a literal `${...}`.
    mutating func expand(_ text: String, at pointer: String) -> String? {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        var failed = false
        while let dollar = rest.indices.first(where: { rest[$0] == "$" && rest[$0...].hasPrefix("${") }) {
            result += rest[..<dollar]
            let start = rest.index(dollar, offsetBy: 2)
            guard let end = rest[start...].firstIndex(of: "}") else {
                decoder.error(at: pointer, "\"\(text)\" has a \"${\" without a closing \"}\"")
                return nil
            }
            let variable = String(rest[start..<end])
            if let replacement = value(of: variable, at: pointer) {
                result += replacement
            } else {
                failed = true
            }
            rest = rest[rest.index(after: end)...]
        }
        result += rest
        return failed ? nil : result
    }

    private mutating func value(of variable: String, at pointer: String) -> String? {
        let environment = context.environment
        if variable == "workspaceFolder" { return context.workspaceFolder }
        if variable == "userHome" { return Paths.home(environment) }
        if variable.hasPrefix("env:") {
            let name = String(variable.dropFirst(4))
            if let value = environment[name] { return value }
            decoder.error(
                at: pointer,
                "\"${\(variable)}\" names the environment variable \(name), which is not set; set it before starting persona-shim, or write the value in the entry's \"env\""
            )
            return nil
        }
        if variable.hasPrefix("input:") {
            decoder.error(
                at: pointer,
                "\"${\(variable)}\" asks the person for a value, which only the editor can do; write the value in the entry's \"env\" or an \"envFile\""
            )
            return nil
        }
        let parts = variable.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        if !name.isEmpty,
            name.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        {
            if let value = environment[name] { return value }
            if parts.count == 2 { return String(parts[1]) }
            decoder.error(
                at: pointer,
                "\"${\(variable)}\" names the environment variable \(name), which is not set; set it, or give a default as ${\(name):-value}"
            )
            return nil
        }
        decoder.error(
            at: pointer,
            "unknown variable \"${\(variable)}\"; persona-shim expands ${env:NAME}, ${NAME}, ${NAME:-default}, ${workspaceFolder} (the current folder) and ${userHome}"
        )
        return nil
    }

    /// Reads `KEY=VALUE` lines (blank lines and `#` comments skipped, an optional `export `, quotes around a value
    /// removed). A file that cannot be read is an error: the server would otherwise start without its settings.
    mutating func readEnvironmentFile(_ path: String, at pointer: String) -> [String: String] {
        guard let bytes = Files.read(path) else {
            let reason = Files.exists(path) ? "it could not be read" : "no such file"
            decoder.error(at: pointer, "cannot read the envFile \(path): \(reason)")
            return [:]
        }
        var result: [String: String] = [:]
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            var line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).trimmingWhitespace() }
            guard let equals = line.firstIndex(of: "="),
                case let key = line[..<equals].trimmingWhitespace(), isEnvironmentName(key)
            else {
                decoder.diagnostics.append(
                    Diagnostic(
                        .error, "expected a KEY=VALUE line in the envFile, not \"\(rawLine)\"", file: path,
                        line: index + 1, column: 1))
                continue
            }
            var value = line[line.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            }
            result[String(key)] = String(value)
        }
        return result
    }

    private func isEnvironmentName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    private func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return text
    }
}
