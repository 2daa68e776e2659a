#if canImport(Glibc)
    import Glibc
#endif

/// `persona-shim demo`: the canonical case, played by a scripted agent against the real shim binary.
enum DemoCommand {
    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, options: ["--persona"], flags: ["-h", "--help"])
        } catch {
            guard case .message(let message) = error else { return 64 }
            return PersonaShimCLI.usageError(message, command: "demo")
        }
        if parsed.flags.contains("-h") || parsed.flags.contains("--help") {
            print(HelpText.demo)
            return PersonaShimCLI.ExitCode.success
        }
        guard let personaPath = parsed.options["--persona"] ?? findBundledPersona() else {
            Logger.writeLine(
                "persona-shim: error: cannot find Personas/support-reader.json; run the demo from the repository, or pass --persona FILE"
            )
            return PersonaShimCLI.ExitCode.failure
        }
        guard let folder = Files.makeTemporaryDirectory(prefix: "persona-shim-demo-") else {
            Logger.writeLine("persona-shim: error: cannot create a temporary folder for the demo's audit file")
            return PersonaShimCLI.ExitCode.failure
        }
        let auditPath = folder + "/audit.jsonl"
        defer { Files.removeFlatDirectory(folder) }
        var script = DemoScript(personaPath: personaPath, auditPath: auditPath)
        return script.play()
    }

    /// `Personas/support-reader.json` above the current directory or above this binary (in `.build/...`).
    static func findBundledPersona() -> String? {
        let starts = [
            Paths.currentDirectory(),
            Paths.directory(of: PersonaShimCLI.selfExecutable),
        ]
        for start in starts {
            var folder = start
            for _ in 0..<8 {
                let candidate = folder + "/Personas/support-reader.json"
                if Files.exists(candidate) { return candidate }
                folder = Paths.directory(of: folder)
            }
        }
        return nil
    }
}

/// The agent's side of the demo: each step prints what the agent did and what the shim answered.
struct DemoScript {
    let personaPath: String
    let auditPath: String
    var failures: [String] = []
    var step = 0

    init(personaPath: String, auditPath: String) {
        self.personaPath = personaPath
        self.auditPath = auditPath
    }

    mutating func play() -> Int32 {
        let persona = PersonaLoader.load(path: personaPath).persona
        print("persona-shim demo: a support agent, a refund dispute, and a billing API it must not touch.")
        print("Persona \(persona?.name ?? "?") (\(personaPath))")
        print("  purpose: \(persona?.purpose ?? "?")")
        print("  owner: \(persona?.owner ?? "?"), review by \(persona?.reviewBy?.description ?? "-")\n")
        let client: StdioClient
        do {
            client = try StdioClient(
                ChildCommand(
                    executable: PersonaShimCLI.selfExecutable,
                    arguments: ["run", "--persona", personaPath, "--audit", auditPath]),
                environment: ProcessEnvironment.current())
        } catch {
            print("could not start persona-shim: \(error)")
            return PersonaShimCLI.ExitCode.failure
        }
        let initialize = client.request(
            "initialize",
            params: [
                "protocolVersion": "2025-11-25", "capabilities": [:],
                "clientInfo": ["name": "demo-support-agent", "version": "1.0"],
            ], id: 1)
        let serverInfo = initialize.response?["result"]?["serverInfo"]
        say(
            "initialize",
            "connected to \(serverInfo?["title"]?.stringValue ?? "nothing"), protocol "
                + (initialize.response?["result"]?["protocolVersion"]?.stringValue ?? "?"))
        expect(initialize.response?["result"] != nil, "initialize was answered")
        try? client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)

        let list = client.request("tools/list", id: 2)
        let names = list.response?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        say("tools/list", "\(names.count) tools: " + names.joined(separator: ", "))
        print("     billing__adjust_balance and billing__refund are not in the list: billing is not part of this job.")
        expect(names.contains("crm__get_ticket"), "crm__get_ticket is visible")
        expect(!names.contains("billing__adjust_balance"), "billing__adjust_balance is hidden")

        let ticket = call(client, "crm__get_ticket", ["ticketId": "T-1042"], id: 3)
        expect(ticket?["result"]?["isError"]?.boolValue != true && ticket?["result"] != nil, "the ticket was read")
        let customer = call(client, "crm__get_customer", ["customerId": "cus_1001"], id: 4)
        expect(
            customer?["result"] != nil && customer?["result"]?["isError"]?.boolValue != true, "the customer was read")

        print("\n     The ticket is a refund dispute. The agent decides to fix the balance itself, by name:")
        let adjust = call(
            client, "billing__adjust_balance",
            ["customerId": "cus_1001", "amountCents": -4900, "reason": "Refund for duplicate March charge (T-1042)"],
            id: 5)
        expect(adjust?["error"]?["code"]?.intValue == -32602, "billing__adjust_balance was refused as an unknown tool")

        client.closeInput()
        let status = client.waitForExit(timeout: 10)
        expect(status == .exited(0), "persona-shim exited cleanly")

        let records = Files.read(auditPath).map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n") ?? []
        print("\nThe audit trail this session wrote (\(records.count) records, \(auditPath)):")
        for record in records { print("  " + record) }
        let parsed = records.compactMap { try? JSONValue(parsing: String($0)) }
        let denial = parsed.first { $0["tool"]?.stringValue == "billing__adjust_balance" }
        expect(denial?["decision"]?.stringValue == "deny", "the audit trail records the denied billing call")
        expect(
            !parsed.contains { $0["event"]?.stringValue == "call.outcome" && $0["server"]?.stringValue == "billing" },
            "the billing server never received a call")

        print("")
        if failures.isEmpty {
            print(
                "Result: the persona held. Identity and authorisation would have let this call through; the job did not."
            )
            return PersonaShimCLI.ExitCode.success
        }
        print("Result: the demo did NOT behave as the persona requires:")
        for failure in failures { print("  - \(failure)") }
        if !client.standardError.isEmpty { print("persona-shim's stderr:\n\(client.standardError)") }
        return PersonaShimCLI.ExitCode.failure
    }

    mutating func call(_ client: StdioClient, _ tool: String, _ arguments: JSONValue, id: Int) -> JSONValue? {
        let reply = client.request(
            "tools/call", params: ["name": .string(tool), "arguments": arguments], id: .integer(id))
        let response = reply.response
        let summary: String
        if let error = response?["error"] {
            summary = "DENIED  error \(error["code"]?.description ?? "?"): \(error["message"]?.stringValue ?? "")"
        } else if let result = response?["result"] {
            let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            let flat = text.split(whereSeparator: \.isNewline).map { $0.drop { $0 == " " } }
                .joined(separator: " ")
            let verdict = result["isError"]?.boolValue == true ? "REFUSED " : "ALLOWED "
            summary = verdict + String(flat.prefix(110)) + (flat.count > 110 ? "…" : "")
        } else {
            summary = "no answer"
        }
        say("tools/call \(tool) \(arguments)", summary)
        return response
    }

    mutating func say(_ action: String, _ outcome: String) {
        step += 1
        print("\(step). agent → \(action)")
        print("     ← \(outcome)")
    }

    mutating func expect(_ condition: Bool, _ what: String) {
        if !condition { failures.append(what) }
    }
}
