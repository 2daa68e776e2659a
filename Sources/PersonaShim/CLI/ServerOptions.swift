/// The servers the command line adds to a persona, the same for `run`, `check` and `tools`:
/// `--servers FILE` and `[--name NAME] -- COMMAND ARGS...`.
struct ServerOptions {
    static let optionNames: Set<String> = ["--servers", "--name"]

    var servers: [ServerSpec] = []
    var diagnostics: [Diagnostic] = []
    /// Where the servers came from, for the loader's message when they leave the persona with none.
    var source: String?
    /// The name chosen for a wrapped command when `--name` was not given, to be logged.
    var derivedName: (name: String, command: String)?

    /// Reads the options; throws a usage error message naming what was given.
    init(_ parsed: ParsedArguments) throws(ParsedArguments.Failure) {
        var sources: [String] = []
        if let serversPath = parsed.options["--servers"] {
            let loaded = PersonaLoader.loadServersFile(path: serversPath)
            servers += loaded.servers
            diagnostics += loaded.diagnostics
            sources.append("the --servers file \(serversPath)")
        }
        if let command = parsed.afterDashes {
            guard let executable = command.first else {
                throw .message("expected a server command after --, but nothing followed it")
            }
            let name: String
            if let given = parsed.options["--name"] {
                guard PersonaLoader.isValidName(given) else {
                    throw .message(
                        "--name \"\(given)\" is not a server name: use letters, digits, '.', '_' and '-' (at most 64 characters)"
                    )
                }
                name = given
            } else {
                name = DefaultServerName.derive(command)
                derivedName = (name, command.joined(separator: " "))
            }
            let cwd = Paths.currentDirectory()
            let resolved = executable.contains("/") ? PersonaLoader.resolvePath(executable, base: cwd) : executable
            servers.append(
                ServerSpec(
                    name: name, command: ChildCommand(executable: resolved, arguments: Array(command.dropFirst()))))
            sources.append("the command after --")
        } else if let name = parsed.options["--name"] {
            throw .message("--name \"\(name)\" names a server command given after --, but no command follows --")
        }
        source = sources.isEmpty ? nil : sources.joined(separator: " and ")
    }

    /// The line that says which name a wrapped command got, so a persona written for another name is caught.
    var derivedNameNote: String? {
        derivedName.map {
            "no --name given: the server \"\($0.command)\" is named \"\($0.name)\", so its tools appear as \($0.name)__TOOL (give --name NAME to choose)"
        }
    }
}

/// A server name for a wrapped command: the program behind the launcher, without the affixes that only say it is
/// an MCP server (`uvx mcp-server-git` → `git`, `npx -y @modelcontextprotocol/server-filesystem` → `filesystem`).
enum DefaultServerName {
    /// Options of launchers that take a value, so the value is not mistaken for the program.
    static let optionsWithValues: Set<String> = [
        "--from", "--with", "--python", "-p", "--package", "-e", "--env", "--env-file", "-v", "--volume", "--name",
        "--network", "--mount", "-w", "--workdir", "-u", "--user", "--entrypoint", "--platform", "--pull",
        "--index-url", "--spec", "-c", "--config", "--import-map",
    ]

    static func derive(_ command: [String]) -> String {
        var rest = ArraySlice(command)
        var candidate = command.first ?? "server"
        while let first = rest.first {
            let program = Paths.lastComponent(first)
            rest = rest.dropFirst()
            let skipsSubcommand: Bool
            switch program {
            case "npx", "bunx", "uvx", "pnpx": skipsSubcommand = false
            case "pipx", "deno", "uv", "bun", "docker", "podman", "pnpm", "yarn":
                guard let sub = rest.first, ["run", "dlx", "x"].contains(sub) else {
                    candidate = program
                    rest = []
                    continue
                }
                skipsSubcommand = true
            case "node", "nodejs", "tsx", "ts-node": skipsSubcommand = false
            case _ where program.hasPrefix("python"):
                if let module = rest.firstIndex(of: "-m"), module + 1 < rest.endIndex {
                    candidate = rest[module + 1]
                    rest = []
                    continue
                }
                skipsSubcommand = false
            default:
                candidate = first
                rest = []
                continue
            }
            if skipsSubcommand { rest = rest.dropFirst() }
            while let option = rest.first, option.hasPrefix("-") {
                rest = rest.dropFirst()
                if optionsWithValues.contains(option), !rest.isEmpty { rest = rest.dropFirst() }
            }
            guard let next = rest.first else {
                candidate = program
                break
            }
            candidate = next
        }
        return clean(candidate)
    }

    /// `@scope/pkg@1.2` → `pkg`, `ghcr.io/org/image:tag` → `image`, `server.py` → `server`, then the MCP affixes.
    static func clean(_ word: String) -> String {
        var name = Substring(Paths.lastComponent(word))
        if name.hasPrefix("@") { name = name.dropFirst() }
        if let at = name.firstIndex(of: "@") { name = name[..<at] }
        if let equals = name.firstIndex(of: "="), name[equals...].hasPrefix("==") { name = name[..<equals] }
        if let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        for suffix in [".py", ".js", ".mjs", ".cjs", ".ts", ".exe"] where name.hasSuffix(suffix) {
            name = name.dropLast(suffix.count)
        }
        let full = name
        for prefix in ["mcp-server-", "mcp_server_", "server-", "mcp-"] where name.hasPrefix(prefix) {
            name = name.dropFirst(prefix.count)
            break
        }
        for suffix in ["-mcp-server", "_mcp_server", "-mcp", "_mcp", "-server"] where name.hasSuffix(suffix) {
            name = name.dropLast(suffix.count)
            break
        }
        if name.isEmpty { name = full }
        // `@playwright/mcp`, `.../weather/build/index.js`: the telling part is further up the path.
        if ["mcp", "server", "index", "main"].contains(name) {
            let parents = word.split(separator: "/").dropLast().reversed()
            if let parent = parents.first(where: { !["build", "dist", "src", "lib", "bin"].contains($0) }) {
                return clean(String(parent))
            }
        }
        var result = ToolNaming.sanitize(String(name))
        if result.utf8.count > 64 { result = String(result.prefix(64)) }
        return result
    }
}
