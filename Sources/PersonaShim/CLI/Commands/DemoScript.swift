/// The agent's side of the demo, told in plain sentences: what the agent tried, what the persona said, and why.
struct DemoScript {
    let personaPath: String
    let auditPath: String
    /// Print the audit records as the JSON lines they are, instead of a table.
    let rawAudit: Bool
    var failures: [String] = []
    var step = 0

    init(personaPath: String, auditPath: String, rawAudit: Bool) {
        self.personaPath = personaPath
        self.auditPath = auditPath
        self.rawAudit = rawAudit
    }

    mutating func play() -> Int32 {
        let persona = PersonaLoader.load(path: personaPath).persona
        print("persona-shim demo: a support agent, a refund dispute, and a billing API it must not touch.\n")
        print("The agent works under the persona \"\(persona?.name ?? "?")\" (\(personaPath)):")
        print("  its job:  \(persona?.purpose ?? "?")")
        print("  owner:    \(persona?.owner ?? "?"), review by \(persona?.reviewBy?.description ?? "-")\n")
        let servers = persona?.servers.map(\.name).joined(separator: " and ") ?? "its servers"
        print(
            "persona-shim stands between the agent and the MCP servers \(servers), and lets through only what this job needs.\n"
        )
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
                "protocolVersion": .string(MCPProtocol.latestVersion), "capabilities": [:],
                "clientInfo": ["name": "demo-support-agent", "version": "1.0"],
            ], id: 1)
        expect(initialize.response?["result"] != nil, "persona-shim answered the agent's handshake")
        try? client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)

        let list = client.request("tools/list", id: 2)
        let names = list.response?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        say(
            "The agent asks which tools it has.",
            "It is shown \(names.count): \(names.joined(separator: ", ")).",
            "billing__adjust_balance and billing__refund are not in the list: changing billing is not part of this job, so for this agent those tools do not exist."
        )
        expect(names.contains("crm__get_ticket"), "crm__get_ticket is visible")
        expect(!names.contains("billing__adjust_balance"), "billing__adjust_balance is hidden")

        let ticket = call(client, "crm__get_ticket", ["ticketId": "T-1042"], id: 3)
        say("The agent reads ticket T-1042.", "Allowed. " + summary(ticket))
        expect(ticket?["result"] != nil && ticket?["result"]?["isError"]?.boolValue != true, "the ticket was read")
        let customer = call(client, "crm__get_customer", ["customerId": "cus_1001"], id: 4)
        say("The agent reads customer cus_1001.", "Allowed. " + summary(customer))
        expect(
            customer?["result"] != nil && customer?["result"]?["isError"]?.boolValue != true, "the customer was read")

        print("The ticket is a refund dispute. The agent decides to fix the balance itself, and calls the billing")
        print("tool by name although it was never listed.\n")
        let adjust = call(
            client, "billing__adjust_balance",
            ["customerId": "cus_1001", "amountCents": -4900, "reason": "Refund for duplicate March charge (T-1042)"],
            id: 5)
        let refused = adjust?["error"]?["code"]?.intValue == JSONRPCError.invalidParams
        say(
            "The agent calls billing__adjust_balance for customer cus_1001, -49.00.",
            refused
                ? "Refused. The agent gets exactly the answer a tool that does not exist gets (\"\(adjust?["error"]?["message"]?.stringValue ?? "")\"), so it learns nothing about what is hidden, and the billing server never sees the call."
                : "NOT refused: " + summary(adjust), blankLine: false)
        expect(refused, "billing__adjust_balance was refused as an unknown tool")

        client.closeInput()
        let status = client.waitForExit(timeout: 10)
        expect(status == .exited(0), "persona-shim exited cleanly")

        let lines = Files.read(auditPath).map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n") ?? []
        let records = lines.compactMap { try? JSONValue(parsing: String($0)) }
        let denial = records.first { $0["tool"]?.stringValue == "billing__adjust_balance" }
        if let reason = denial?["reason"]?.stringValue {
            print("   The persona's reason, written to the audit trail: \(reason).")
        }
        print("")
        expect(denial?["decision"]?.stringValue == "deny", "the audit trail records the denied billing call")
        expect(
            !records.contains { $0["event"]?.stringValue == "call.outcome" && $0["server"]?.stringValue == "billing" },
            "the billing server never received a call")
        printAudit(lines: lines, records: records)

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

    func printAudit(lines: [Substring], records: [JSONValue]) {
        print("The audit trail this session wrote, one record per event (\(records.count) records):\n")
        if rawAudit {
            for line in lines { print(line) }
        } else {
            var rows = [["seq", "time", "event", "server", "tool", "result", "rule"]]
            for record in records {
                let time = record["ts"]?.stringValue.map { String($0.dropFirst(11).prefix(12)) } ?? ""
                let result = record["decision"]?.stringValue ?? record["outcome"]?.stringValue ?? ""
                rows.append(
                    [record["seq"]?.description ?? "", time, record["event"]?.stringValue ?? ""]
                        + [record["server"]?.stringValue ?? "", record["tool"]?.stringValue ?? "", result]
                        + [record["rule"]?.stringValue ?? ""])
            }
            let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                let cells = row.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }
                print("  " + cells.joined(separator: "  ").trimmedTrailingSpaces)
            }
        }
        print("\nThe file is kept: \(auditPath)")
        print("Read it with jq, e.g. jq -c 'select(.decision == \"deny\")' \(auditPath)   (raw records: demo --json)\n")
    }

    func call(_ client: StdioClient, _ tool: String, _ arguments: JSONValue, id: Int) -> JSONValue? {
        client.request("tools/call", params: ["name": .string(tool), "arguments": arguments], id: .integer(id))
            .response
    }

    /// The first words of a tool's answer.
    func summary(_ response: JSONValue?) -> String {
        guard let result = response?["result"] else {
            return response?["error"]?["message"]?.stringValue.map { "Error: \($0)" } ?? "No answer."
        }
        let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        let flat = text.split(whereSeparator: \.isNewline).map { $0.drop { $0 == " " } }.joined(separator: " ")
        return "It gets: \"" + String(flat.prefix(90)) + (flat.count > 90 ? "…" : "") + "\""
    }

    mutating func say(_ action: String, _ outcome: String, _ why: String? = nil, blankLine: Bool = true) {
        step += 1
        print("\(step). \(action)")
        print("   \(outcome)")
        if let why { print("   \(why)") }
        if blankLine { print("") }
    }

    mutating func expect(_ condition: Bool, _ what: String) {
        if !condition { failures.append(what) }
    }
}

extension String {
    fileprivate var trimmedTrailingSpaces: String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
