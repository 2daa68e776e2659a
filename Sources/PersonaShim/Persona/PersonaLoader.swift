/// What loading a persona produced: the persona when there were no errors, and every diagnostic.
public struct PersonaLoadResult: Sendable {
    public var persona: Persona?
    public var diagnostics: [Diagnostic]
    /// The persona document as decoded: the file itself, or the chain it extends merged into one (no `extends`).
    public var effective: JSONObject?
}

/// Reads persona files (JSON, version 1) and client configuration files (`mcpServers` / `servers`).
public enum PersonaLoader {
    static let topLevelKeys = [
        "$schema", "version", "persona", "purpose", "owner", "reviewBy", "expires", "mode", "servers", "tools",
        "resources", "prompts", "serverRequests", "audit", "timeouts", "transport", "dataClasses", "extends",
    ]
    static let serverKeys = ["type", "command", "args", "env", "cwd"]
    static let scopeKeys = ["allow", "deny"]
    static let serverRequestKeys = ["sampling", "elicitation", "roots"]
    static let auditKeys = ["path", "fsync"]
    static let timeoutKeys = ["initializeSeconds", "callSeconds"]
    static let transportKeys = ["maxAgentMessageBytes", "maxServerMessageBytes"]

    /// Loads the persona at `path`. Relative paths inside it resolve against the file's folder.
    ///
    /// - Parameters:
    ///   - extraServers: servers from `--servers` or a wrapped command, which make `servers` optional.
    ///   - serversSource: where `extraServers` came from when the command line named any (`the --servers file
    ///     F`), so that a persona left without servers says why.
    ///   - now: the moment expiry and review dates are judged against.
    public static func load(
        path: String, extraServers: [ServerSpec] = [], serversSource: String? = nil, now: Instant = .now
    ) -> PersonaLoadResult {
        guard let data = Files.read(path) else {
            let reason = Files.exists(path) ? "it could not be read" : "no such file"
            return PersonaLoadResult(
                persona: nil,
                diagnostics: [
                    Diagnostic(
                        .error, "cannot open the persona file: \(reason); check its path", file: path)
                ])
        }
        return decode(bytes: data, path: path, extraServers: extraServers, serversSource: serversSource, now: now)
    }

    /// Decodes persona JSON text; `path` names it in diagnostics and anchors its relative paths.
    public static func decode(
        bytes: [UInt8], path: String, extraServers: [ServerSpec] = [], serversSource: String? = nil,
        now: Instant = .now
    ) -> PersonaLoadResult {
        let root: JSONValue
        let locations: JSONLocations
        do {
            (root, locations) = try JSONValue.parseWithLocations(bytes)
        } catch {
            let position = LineTable(bytes).position(of: error.offset)
            return PersonaLoadResult(
                persona: nil,
                diagnostics: [
                    Diagnostic(
                        .error, "the persona is not valid JSON: \(error.message)", file: path, line: position.line,
                        column: position.column)
                ])
        }
        var decoder = PersonaDecoder(file: path, bytes: bytes, locations: locations)
        let base = Paths.directory(of: absolute(path))
        guard var top = decoder.object(root, at: "", what: "a persona file") else {
            return PersonaLoadResult(persona: nil, diagnostics: decoder.diagnostics)
        }
        var digest = "sha256:" + SHA256.hash(bytes).hexString
        var sourceFiles = [path]
        if top["extends"] != nil {
            switch PersonaInheritance.flatten(top: top, bytes: bytes, locations: locations, path: path) {
            case .failure(let failure): return PersonaLoadResult(persona: nil, diagnostics: failure.diagnostics)
            case .success(let flat):
                (top, digest, sourceFiles, decoder.origins) = (flat.document, flat.digest, flat.files, flat.origins)
            }
        }
        decoder.rejectUnknownKeys(
            top, at: "",
            allowed: topLevelKeys + CallPolicyDecoder.topLevelKeys + ApprovalDecoder.topLevelKeys
                + MaskingDecoder.topLevelKeys,
            context: "the persona")
        if let version = top["version"], version.intValue != 1 {
            decoder.error(at: "/version", "unsupported persona version \(version); this persona-shim reads version 1")
        }
        let what = "the persona"
        let name = decoder.string(top, "persona", at: "", required: true, what: what)
        if let name, !isValidName(name) {
            decoder.error(
                at: "/persona",
                "persona name \"\(name)\" may use only letters, digits, '.', '_' and '-' (at most 64 characters)")
        }
        let purpose = decoder.string(top, "purpose", at: "", required: true, what: what)
        let owner = decoder.string(top, "owner", at: "", required: true, what: what)
        let reviewBy = decoder.date(top, "reviewBy", at: "")
        let expires = decoder.date(top, "expires", at: "")
        var mode = Persona.Mode.enforce
        if let modeText = decoder.string(top, "mode", at: "") {
            if let parsed = Persona.Mode(rawValue: modeText) {
                mode = parsed
            } else {
                decoder.error(at: "/mode", "unknown mode \"\(modeText)\"; the modes are \"enforce\" and \"monitor\"")
            }
        }
        var servers = decodeServers(&decoder, top["servers"], at: "/servers", base: base)
        if top["servers"] == nil && extraServers.isEmpty {
            if let serversSource {
                decoder.error(
                    at: "",
                    "the persona declares no \"servers\" and \(serversSource) gave none persona-shim can run; add servers to the persona or to that file"
                )
            } else {
                decoder.error(
                    at: "",
                    "missing required key \"servers\" in the persona (or give --servers FILE, or a command after --)")
            }
        }
        var prefixes: [String: String] = [:]
        for server in servers + extraServers {
            let prefix = ResourceURIs.prefix(server.name)
            if let other = prefixes[prefix], other != server.name {
                decoder.error(
                    at: "/servers",
                    "servers \"\(other)\" and \"\(server.name)\" would share the resource URI prefix \"\(prefix)+\"; rename one (names are compared lowercase, with characters other than letters, digits, '.' and '-' read as '-')"
                )
            }
            prefixes[prefix] = server.name
        }
        for extra in extraServers {
            if servers.contains(where: { $0.name == extra.name }) {
                decoder.error(
                    at: "/servers",
                    "server \"\(extra.name)\" is declared both in the persona and on the command line; rename one")
            } else {
                servers.append(extra)
            }
        }
        let tools = decodeScope(&decoder, top["tools"], section: "tools")
        let resources =
            decodeScope(&decoder, top["resources"], section: "resources")
            ?? PatternScope(section: "resources", allow: [], deny: [])
        let prompts =
            decodeScope(&decoder, top["prompts"], section: "prompts")
            ?? PatternScope(section: "prompts", allow: [], deny: [])
        var serverRequests = ServerRequestPolicy()
        if let object = decoder.object(top["serverRequests"], at: "/serverRequests", what: "\"serverRequests\"") {
            decoder.rejectUnknownKeys(
                object, at: "/serverRequests", allowed: serverRequestKeys, context: "\"serverRequests\"")
            serverRequests.sampling = decoder.bool(object, "sampling", at: "/serverRequests") ?? serverRequests.sampling
            serverRequests.elicitation =
                decoder.bool(object, "elicitation", at: "/serverRequests") ?? serverRequests.elicitation
            serverRequests.roots = decoder.bool(object, "roots", at: "/serverRequests") ?? serverRequests.roots
        }
        if top["tools"] == nil {
            decoder.error(at: "", "missing required key \"tools\" in the persona (it lists the tools the job needs)")
        }
        var audit = AuditSettings(path: nil, fsync: false)
        if let object = decoder.object(top["audit"], at: "/audit", what: "\"audit\"") {
            decoder.rejectUnknownKeys(object, at: "/audit", allowed: auditKeys, context: "\"audit\"")
            audit.path = decoder.string(object, "path", at: "/audit").map { resolvePath($0, base: base) }
            audit.fsync = decoder.bool(object, "fsync", at: "/audit") ?? false
        }
        var timeouts = Timeouts()
        if let object = decoder.object(top["timeouts"], at: "/timeouts", what: "\"timeouts\"") {
            decoder.rejectUnknownKeys(object, at: "/timeouts", allowed: timeoutKeys, context: "\"timeouts\"")
            timeouts.initializeSeconds =
                decoder.positiveNumber(object, "initializeSeconds", at: "/timeouts") ?? timeouts.initializeSeconds
            timeouts.callSeconds =
                decoder.positiveNumber(object, "callSeconds", at: "/timeouts") ?? timeouts.callSeconds
        }
        var transport = TransportLimits()
        if let object = decoder.object(top["transport"], at: "/transport", what: "\"transport\"") {
            decoder.rejectUnknownKeys(object, at: "/transport", allowed: transportKeys, context: "\"transport\"")
            transport.maxAgentMessageBytes =
                decoder.byteCount(object, "maxAgentMessageBytes", at: "/transport") ?? transport.maxAgentMessageBytes
            transport.maxServerMessageBytes =
                decoder.byteCount(object, "maxServerMessageBytes", at: "/transport") ?? transport.maxServerMessageBytes
        }
        let dataClasses = DataClassesDecoder.decode(&decoder, top["dataClasses"], base: base)
        let callPolicy = CallPolicyDecoder.decode(
            &decoder, top, base: base, home: Paths.home(ProcessEnvironment.current()))
        let approval = ApprovalDecoder.decode(&decoder, top, base: base)
        let masking = MaskingDecoder.decode(&decoder, top)
        if let expires, now >= expires.endOfDay {
            decoder.error(
                at: "/expires",
                "persona \"\(name ?? "?")\" expired on \(expires); ask its owner (\(owner ?? "unknown")) to review it and set a new \"expires\" date"
            )
        }
        if reviewBy == nil && top["reviewBy"] == nil {
            decoder.report(
                .warning, at: "", "the persona has no \"reviewBy\" date; personas should be reviewed on a cycle")
        } else if let reviewBy, now >= reviewBy.endOfDay {
            decoder.report(
                .warning, at: "/reviewBy",
                "persona \"\(name ?? "?")\" was due for review on \(reviewBy); ask its owner (\(owner ?? "unknown")) to review it"
            )
        }
        guard !decoder.diagnostics.hasErrors, let name, let purpose, let owner, let tools else {
            return PersonaLoadResult(persona: nil, diagnostics: decoder.diagnostics, effective: top)
        }
        var persona = Persona(
            name: name, purpose: purpose, owner: owner, reviewBy: reviewBy, expires: expires, mode: mode,
            servers: servers, tools: tools, resources: resources, prompts: prompts,
            serverRequests: serverRequests, audit: audit, timeouts: timeouts, sourcePath: path,
            digest: digest)
        persona.transport = transport
        persona.callPolicy = callPolicy
        persona.dataClasses = dataClasses
        persona.approval = approval
        persona.masking = masking
        persona.sourceFiles = sourceFiles
        return PersonaLoadResult(persona: persona, diagnostics: decoder.diagnostics, effective: top)
    }

    /// Decodes an allow/deny section (`tools`, `resources`, `prompts`).
    static func decodeScope(_ decoder: inout PersonaDecoder, _ value: JSONValue?, section: String) -> PatternScope? {
        let pointer = "/" + section
        guard let object = decoder.object(value, at: pointer, what: "\"\(section)\"") else { return nil }
        decoder.rejectUnknownKeys(object, at: pointer, allowed: scopeKeys, context: "\"\(section)\"")
        let allow = decoder.stringArray(object, "allow", at: pointer) ?? []
        let deny = decoder.stringArray(object, "deny", at: pointer) ?? []
        if section != "resources" {
            for (key, patterns) in [("allow", allow), ("deny", deny)] {
                for (index, pattern) in patterns.enumerated()
                where pattern.isEmpty
                    || !pattern.unicodeScalars.allSatisfy({ isNameScalar($0) || $0 == "*" || $0 == "?" })
                {
                    decoder.report(
                        .warning, at: "\(pointer)/\(key)/\(index)",
                        "pattern \"\(pattern)\" can never match: exposed \(section) names use only letters, digits, '_' and '-' (plus '*' and '?' in patterns)"
                    )
                }
            }
        }
        if allow.isEmpty && section == "tools" {
            decoder.report(.warning, at: pointer, "\"tools.allow\" is empty: the agent will see no tools at all")
        }
        return PatternScope(section: section, allow: allow.map(Glob.init), deny: deny.map(Glob.init))
    }

    /// Decodes a persona's `servers`; client configuration files have their own reader (`ServersFileReader`).
    static func decodeServers(_ decoder: inout PersonaDecoder, _ value: JSONValue?, at pointer: String, base: String)
        -> [ServerSpec]
    {
        guard let object = decoder.object(value, at: pointer, what: "\"servers\"") else { return [] }
        var servers: [ServerSpec] = []
        for (name, entry) in object.members {
            let entryPointer = pointer + "/" + JSONReader.escapePointer(name)
            if !isValidName(name) {
                decoder.error(
                    at: entryPointer, key: true,
                    "server name \"\(name)\" may use only letters, digits, '.', '_' and '-' (at most 64 characters)")
            }
            guard let server = decoder.object(entry, at: entryPointer, what: "server \"\(name)\"") else { continue }
            decoder.rejectUnknownKeys(server, at: entryPointer, allowed: serverKeys, context: "server \"\(name)\"")
            if let type = decoder.string(server, "type", at: entryPointer), type != "stdio" {
                decoder.error(
                    at: entryPointer + "/type",
                    "server \"\(name)\" has type \"\(type)\"; persona-shim runs only \"stdio\" servers")
                continue
            }
            guard
                let command = decoder.string(
                    server, "command", at: entryPointer, required: true, what: "server \"\(name)\"")
            else { continue }
            let arguments = decoder.stringArray(server, "args", at: entryPointer) ?? []
            let environment = decoder.stringMap(server, "env", at: entryPointer) ?? [:]
            let cwd = decoder.string(server, "cwd", at: entryPointer).map { resolvePath($0, base: base) }
            let executable = command.contains("/") ? resolvePath(command, base: base) : command
            servers.append(
                ServerSpec(
                    name: name,
                    command: ChildCommand(
                        executable: executable, arguments: arguments, environment: environment, workingDirectory: cwd)))
        }
        return servers
    }

    static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII
            && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy { isNameScalar($0) || $0 == "." }
    }

    /// Expands a leading `~` and anchors relative paths at `base`.
    public static func resolvePath(_ path: String, base: String) -> String {
        if path == "~" || path.hasPrefix("~/") {
            return Paths.home(ProcessEnvironment.current()) + path.dropFirst()
        }
        if path.hasPrefix("/") { return path }
        return Paths.resolve(path, against: absolute(base))
    }

    /// `path` made absolute against the current directory.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : Paths.resolve(path, against: Paths.currentDirectory())
    }
}
