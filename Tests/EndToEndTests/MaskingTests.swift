import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// Masking through the binary: planted personal data and secrets never reach the agent, the audit file or the
    /// shim's stderr; structured results stay valid; calls carrying secrets never reach the server.
    @Suite struct Masking {
        static let planted = ["jane.doe", "4111", "AKIAZ7Q3"]

        static func masking(_ settings: String = "") throws -> JSONValue {
            try json(
                #"{"detectors": "all", "replacement": "hash", "exempt": {"pointers": ["/structuredContent/agentEmail"]}\#(settings)}"#
            )
        }

        static func shim(_ recording: Recording, masking: JSONValue?, secrets: JSONValue? = nil) throws -> ShimProcess {
            var extra: [(String, JSONValue)] = [("resources", ["allow": ["memo://*"]])]
            if let masking { extra.append(("masking", masking)) }
            if let secrets { extra.append(("secrets", secrets)) }
            return try ShimProcess(
                servers: [("fx", recording.server(["--masking-tools", "--resources"]))], allow: ["fx__*"],
                extra: extra, environment: ["PERSONA_SHIM_LOG": "debug"])
        }

        /// Sends `line` and returns every line the shim writes up to and including the answer with id `id`.
        static func exchange(_ shim: ShimProcess, _ line: String, id: String) throws -> [String] {
            try shim.client.send(line)
            var lines: [String] = []
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, let bytes = shim.client.readLine(timeout: deadline.timeIntervalSinceNow) {
                let text = String(decoding: bytes, as: UTF8.self)
                lines.append(text)
                let message = try? JSONValue(parsing: text)
                if message?["id"]?.stringValue == id, message?["method"] == nil { return lines }
            }
            Issue.record("no answer to \(id); stderr: \(shim.client.standardError)")
            return lines
        }

        static func answer(_ lines: [String], id: String) -> JSONValue? {
            lines.compactMap { try? JSONValue(parsing: $0) }.first {
                $0["id"]?.stringValue == id && $0["method"] == nil
            }
        }

        @Test func plantedValuesAppearNowhereAndTheStructuredResultStaysValid() throws {
            let recording = Recording()
            let shim = try Self.shim(recording, masking: try Self.masking())
            try shim.initialize()
            var stdout: [String] = []
            let all = try Self.exchange(
                shim,
                #"{"jsonrpc":"2.0","id":"all","method":"tools/call","params":{"name":"fx__leak_all","arguments":{},"_meta":{"progressToken":"p1"}}}"#,
                id: "all")
            stdout += all
            let strict = try Self.exchange(shim, rawCall(id: "strict", "fx__leak_strict", "{}"), id: "strict")
            stdout += strict
            let failed = try Self.exchange(shim, rawCall(id: "error", "fx__leak_error", "{}"), id: "error")
            stdout += failed
            let read = try Self.exchange(
                shim, #"{"jsonrpc":"2.0","id":"read","method":"resources/read","params":{"uri":"memo://leak"}}"#,
                id: "read")
            stdout += read
            let audit = shim.auditRecords()
            let auditText = (try? String(contentsOfFile: shim.auditPath, encoding: .utf8)) ?? ""
            #expect(shim.finish() != nil)
            let stderr = shim.client.completeStandardError(timeout: 10)
            #expect(stderr.contains("debug"), "debug logging was on")
            #expect(stderr.contains("[fx] looked up [masked:email] with key [masked:aws-access-key]"), "\(stderr)")

            // The fixture did send them (its answers are what the shim masked).
            #expect(recording.calls().count == 3)
            for value in Self.planted {
                #expect(!stdout.joined(separator: "\n").contains(value), "\(value) reached the agent")
                #expect(!auditText.contains(value), "\(value) reached the audit file")
                #expect(!stderr.contains(value), "\(value) reached stderr")
            }

            // leak_all: masked in every place, the same way in text and structured forms, and still valid.
            let result = try #require(Self.answer(all, id: "all")?["result"])
            #expect(result["isError"] == false)
            let structured = try #require(result["structuredContent"])
            let maskedEmail = try #require(structured["customer"]?["email"]?.stringValue)
            #expect(maskedEmail.hasPrefix("[masked:email:") && maskedEmail.count == "[masked:email:12345678]".count)
            #expect(structured["customer"]?["card"]?.stringValue?.hasPrefix("[masked:card:") == true)
            #expect(structured["note"]?.stringValue?.hasPrefix("rotate [masked:aws-access-key:") == true)
            #expect(structured["ticket"] == "T-1042")
            #expect(structured["agentEmail"] == "support@example.com", "exempt by pointer")
            // The outputSchema: ticket matches ^T-[0-9]+$, card at most 64 characters, agentEmail an address.
            #expect((structured["customer"]?["card"]?.stringValue?.count ?? 99) <= 64)
            let texts = result["content"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
            #expect(texts.count == 3)
            #expect(texts[0].contains(maskedEmail) && texts[0].contains("support@example.com"))
            #expect(texts[1] == "escaped \(maskedEmail)", "an e-mail written with \\u0040 is masked too")
            #expect(try JSONValue(parsing: texts[2]) == structured, "text and structured forms masked alike")
            let embedded = result["content"]?[3]?["resource"]?["text"]?.stringValue ?? ""
            #expect(embedded.hasPrefix("Card [masked:card:"))
            let notes = all.compactMap { try? JSONValue(parsing: $0) }.filter { $0["method"] != nil }
            let log = notes.first { $0["method"] == "notifications/message" }
            #expect(log?["params"]?["data"]?["customer"] == .string(maskedEmail))
            let progress = notes.first { $0["method"] == "notifications/progress" }
            #expect(
                progress?["params"]?["message"]?.stringValue?.hasPrefix("checking key [masked:aws-access-key:") == true)
            #expect(progress?["params"]?["progressToken"] == "p1")

            // leak_strict: masking would break "format": "email", so a clear tool error instead.
            let withheld = try #require(refusal(Self.answer(strict, id: "strict")))
            #expect(withheld.contains("/structuredContent/contact") && withheld.contains("format"))
            #expect(Self.answer(strict, id: "strict")?["result"]?["structuredContent"] == nil)

            // leak_error: the error's message and data are masked.
            let error = try #require(Self.answer(failed, id: "error")?["error"])
            #expect(error["message"]?.stringValue == "lookup failed for \(maskedEmail)")
            #expect(error["data"]?["key"]?.stringValue?.hasPrefix("[masked:aws-access-key:") == true)

            // resources/read
            let contents = Self.answer(read, id: "read")?["result"]?["contents"]?[0]?["text"]?.stringValue ?? ""
            #expect(contents.hasPrefix("Card [masked:card:") && contents.contains(maskedEmail))

            // The audit says what was masked, per message, by detector and count.
            let masked = audit.filter { $0["event"] == "response.masked" }
            let allRecord = masked.first { $0["tool"] == "fx__leak_all" }
            #expect(allRecord?["masked"]?["email"]?.intValue ?? 0 >= 3)
            #expect(allRecord?["masked"]?["card"]?.intValue ?? 0 >= 3)
            #expect(masked.contains { $0["tool"] == "fx__leak_strict" && $0["withheld"] == true })
            #expect(masked.contains { $0["method"] == "notifications/message" && $0["server"] == "fx" })
            #expect(masked.contains { $0["method"] == "notifications/progress" })
            #expect(masked.contains { $0["resource"] == "memo://leak" })
        }

        @Test func callsCarryingSecretsOrMaskedValuesNeverReachTheServer() throws {
            let recording = Recording()
            let shim = try Self.shim(recording, masking: try Self.masking())
            try shim.initialize()
            let key = try #require(
                refusal(
                    shim.callRaw(rawCall(id: "k", "fx__send", #"{"body":{"note":"AKIAZ7Q3KX4M2LBN8WTR"}}"#), id: "k")))
            #expect(key.contains("aws-access-key") && key.contains("/body/note") && key.contains("secrets.outbound"))
            #expect(!key.contains("AKIAZ7Q3"))
            // An address is no secret until this session masked it.
            #expect(resultText(shim.call("fx__send", ["to": "jane.doe@example.com"], id: "before")) != nil)
            _ = shim.call("fx__leak_all", id: "leak")
            let echoed = try #require(
                refusal(shim.callRaw(rawCall(id: "m", "fx__send", #"{"to":"jane.doe@example.com"}"#), id: "m")))
            #expect(echoed.contains("masked earlier") && echoed.contains("/to") && !echoed.contains("jane.doe"))
            #expect(resultText(shim.call("fx__send", ["to": "someone@example.org"], id: "other")) != nil)
            let sent = recording.calls().filter { $0.contains(#""name":"send""#) }
            #expect(sent.count == 2)
            #expect(!sent.contains { $0.contains("AKIAZ7Q3") })
            let decisions = shim.decisions().filter { $0["rule"] == "secrets.outbound" }
            #expect(decisions.count == 2 && decisions.allSatisfy { $0["decision"] == "deny" })
            #expect(!((try? String(contentsOfFile: shim.auditPath, encoding: .utf8)) ?? "").contains("AKIAZ7Q3"))
        }

        /// `secrets.outbound: "ask"` parks the call and asks a person (here the scripted agent's client, through
        /// the shim's own elicitation): a yes sends exactly that call, a no refuses it and nothing reaches the server.
        @Test func secretsAskGoesToAPersonAndOnlyAYesSendsTheCall() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server(["--masking-tools"]))], allow: ["fx__*"],
                extra: [("secrets", try json(#"{"outbound": "ask"}"#)), ("approval", ["timeoutSeconds": 60])])
            try shim.initialize(capabilities: ["elicitation": ["form": [:]]])

            func ask(_ callID: String, answer: String) throws -> JSONValue? {
                try shim.client.send(rawCall(id: callID, "fx__send", #"{"token":"AKIAZ7Q3KX4M2LBN8WTR"}"#))
                var question: JSONValue?
                var response: JSONValue?
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline, response == nil,
                    let message = shim.client.readMessage(timeout: deadline.timeIntervalSinceNow)
                {
                    if message["method"] == "elicitation/create" {
                        question = message
                        let id = try #require(message["id"]?.intValue)
                        try shim.client.send(#"{"jsonrpc":"2.0","id":\#(id),"result":\#(answer)}"#)
                    } else if message["id"]?.stringValue == callID {
                        response = message
                    }
                }
                let text = try #require(question?["params"]?["message"]?.stringValue, "no question was asked")
                #expect(text.contains("aws-access-key"), "the question names the detector: \(text)")
                return response
            }
            let declined = try ask("no", answer: #"{"action":"decline"}"#)
            #expect(refusal(declined)?.contains("did not approve") == true, "\(String(describing: declined))")
            #expect(recording.calls().isEmpty)
            let approved = try ask("yes", answer: #"{"action":"accept","content":{"approve":true}}"#)
            #expect(refusal(approved) == nil && approved?["result"] != nil, "\(String(describing: approved))")
            #expect(recording.calls().count == 1)
            // `secrets` alone masks nothing.
            let all = shim.call("fx__leak_all", id: "leak")
            #expect(all?["result"]?["structuredContent"]?["customer"]?["email"] == "jane.doe@example.com")
        }

        /// Without exempt pointers, answers are masked straight from their bytes (no tree): the same promises hold.
        @Test func theBytePathKeepsThePromises() throws {
            let recording = Recording()
            let shim = try Self.shim(
                recording,
                masking: try json(#"{"replacement": "hash", "exempt": {"values": ["support@example.com"]}}"#))
            try shim.initialize()
            var stdout = try Self.exchange(shim, rawCall(id: "all", "fx__leak_all", "{}"), id: "all")
            let all = stdout
            let strict = try Self.exchange(shim, rawCall(id: "strict", "fx__leak_strict", "{}"), id: "strict")
            let failed = try Self.exchange(shim, rawCall(id: "error", "fx__leak_error", "{}"), id: "error")
            stdout += strict + failed
            #expect(shim.finish() != nil)
            for value in Self.planted { #expect(!stdout.joined().contains(value), "\(value) reached the agent") }
            let result = try #require(Self.answer(all, id: "all")?["result"])
            let structured = try #require(result["structuredContent"])
            let maskedEmail = try #require(structured["customer"]?["email"]?.stringValue)
            #expect(maskedEmail.hasPrefix("[masked:email:"))
            #expect(structured["agentEmail"] == "support@example.com", "exempt by value")
            let texts = result["content"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
            #expect(texts.count == 3 && texts[1] == "escaped \(maskedEmail)")
            #expect(try JSONValue(parsing: texts[2]) == structured, "text and structured forms masked alike")
            #expect(refusal(Self.answer(strict, id: "strict"))?.contains("/structuredContent/contact") == true)
            #expect(
                Self.answer(failed, id: "error")?["error"]?["message"]?.stringValue
                    == "lookup failed for \(maskedEmail)")
            #expect(Self.answer(failed, id: "error")?["id"] == "error")
        }

        /// Every pair of eras (agent, server) masks alike.
        @Test(arguments: [(false, true), (true, false), (true, true)])
        func bothErasMaskAlike(_ modernAgent: Bool, _ modernServer: Bool) throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [
                    ("fx", recording.server(["--masking-tools"] + (modernServer ? ["--era", "modern"] : [])))
                ], allow: ["fx__*"], extra: [("masking", try Self.masking())])
            if !modernAgent { try shim.initialize() }
            func params(_ members: [(String, JSONValue)]) -> JSONValue {
                modernAgent
                    ? Eras.params(members) : .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
            }
            try shim.client.send(
                .object(
                    JSONObject([
                        ("jsonrpc", "2.0"), ("id", "all"), ("method", "tools/call"),
                        ("params", params([("name", "fx__leak_all"), ("arguments", [:])])),
                    ])))
            var lines: [String] = []
            while let bytes = shim.client.readLine(timeout: 30) {
                lines.append(String(decoding: bytes, as: UTF8.self))
                if (try? JSONValue(parsing: lines.last!))?["id"] == "all" { break }
            }
            let result = try #require(Self.answer(lines, id: "all")?["result"], "stderr: \(shim.client.standardError)")
            for value in Self.planted { #expect(!lines.joined().contains(value), "\(value) reached the agent") }
            #expect(
                result["structuredContent"]?["customer"]?["email"]?.stringValue?.hasPrefix("[masked:email:") == true)
            if modernAgent { #expect(result["resultType"] == "complete") }
            #expect(shim.finish() == .exited(0))
            #expect(!shim.client.completeStandardError(timeout: 10).contains("jane.doe"))
        }

        /// Without `masking` and `secrets`, an answer is the server's bytes with only the id replaced.
        @Test func withoutMaskingAnswersAreTheServersBytes() throws {
            let call = rawCall(id: "same", "leak_all", "{}")
            let direct = try StdioClient(
                ChildCommand(executable: Binaries.fixture, arguments: ["--masking-tools", "--resources"]),
                environment: ["PATH": "/usr/bin:/bin"])
            _ = direct.request(
                "initialize", params: ["protocolVersion": "2025-11-25", "capabilities": [:]], id: 0)
            try direct.send(call)
            var fromServer: [UInt8]?
            while let line = direct.readLine(timeout: 20) {
                if (try? JSONValue(parsing: line))?["id"] == "same" { fromServer = line; break }
            }
            direct.closeInput()
            _ = direct.waitForExit(timeout: 10)
            let expected = try #require(fromServer)

            let recording = Recording()
            let shim = try Self.shim(recording, masking: nil)
            try shim.initialize()
            let lines = try Self.exchange(shim, rawCall(id: "same", "fx__leak_all", "{}"), id: "same")
            #expect(Array(lines.last!.utf8) == expected)
            #expect(String(decoding: expected, as: UTF8.self).contains("jane.doe@example.com"))
        }
    }
}
