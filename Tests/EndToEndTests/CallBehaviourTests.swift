import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// Behaviour and flow rules through the binary, and what the agent is shown of the tools.
    @Suite struct CallBehaviour {
        /// The seeds' incident: an agent looking for notes guesses file names that do not exist, again and again.
        @Test func anAgentGuessingFileNamesIsStoppedAndTheDriftIsRecorded() throws {
            let files = Scratch()
            let readme = files.write("README.md", "hello\n")
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__read_file", "fx__echo"],
                extra: [("behaviour", try json(#"{"failures": 3}"#))])
            try shim.initialize()
            #expect(resultText(shim.call("fx__read_file", ["path": .string(readme)], id: "readme")) != nil)
            var stopped: String?
            var guesses = 0
            for name in ["notes.txt", "NOTES.md", "todo.md", "notes/today.md", "docs/notes.txt", "notes.bak"] {
                let response = shim.call("fx__read_file", ["path": .string(files.path + "/" + name)], id: .string(name))
                let sentence = try #require(refusal(response), "\(name): \(String(describing: response))")
                if sentence.hasPrefix("No such file") {
                    guesses += 1
                } else {
                    stopped = sentence
                    break
                }
            }
            // Failures in a row: the fourth is one too many, so the fifth guess is refused by the shim.
            #expect(guesses == 4)
            let sentence = try #require(stopped)
            #expect(sentence.contains("The agent is drifting from its job: 4 calls in a row failed (at most 3)"))
            #expect(sentence.contains("calls are refused for the rest of this session"))
            #expect(sentence.hasSuffix("(rule behaviour.failures)."))
            // For the rest of the session, even a call that would succeed.
            #expect(
                refusal(shim.call("fx__read_file", ["path": .string(readme)], id: "again"))?.contains("drifting")
                    == true)
            #expect(refusal(shim.call("fx__echo", ["hi": 1], id: "echo"))?.contains("drifting") == true)
            #expect(recording.calls().count == 5)

            let records = shim.auditRecords()
            let drift = records.filter { $0["event"] == "drift" }
            try #require(drift.count == 1)
            #expect(drift[0]["drift"] == "failures")
            #expect(drift[0]["reason"]?.stringValue?.contains("4 calls in a row failed") == true)
            let refused = records.filter { $0["event"] == "call.decision" && $0["decision"] == "deny" }
            #expect(refused.count == 3)
            #expect(refused.allSatisfy { $0["rule"] == "behaviour.failures" })
        }

        @Test func probingForToolsAndRepeatingACallAreDrift() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__echo", "fx__read_file"],
                extra: [("behaviour", try json(#"{"probes": 2, "coolDown": "5m"}"#))])
            try shim.initialize()
            #expect(resultText(shim.call("fx__echo", ["n": 0], id: "before")) != nil)
            for guess in ["fx__cat", "fx__read_files", "fx__crash"] {
                #expect(shim.call(guess, id: .string(guess))?["error"]?["message"] == .string("Unknown tool: \(guess)"))
            }
            let sentence = try #require(refusal(shim.call("fx__echo", ["n": 1], id: "after")))
            #expect(sentence.contains("3 calls were made to tools this persona does not offer"), "\(sentence)")
            #expect(sentence.contains("calls are refused for 5m"), "\(sentence)")
            #expect(recording.calls().count == 1)
            let drift = try #require(shim.auditRecords().first { $0["event"] == "drift" })
            #expect(drift["drift"] == "probes")
            #expect(drift["tool"] == "fx__crash")
            #expect((drift["coolDownMs"]?.doubleValue ?? 0) > 290_000)

            let repeats = Recording()
            let second = try ShimProcess(
                servers: [("fx", repeats.server())], allow: ["fx__echo"],
                extra: [("behaviour", try json(#"{"repeats": {"max": 2, "within": "1h"}}"#))])
            try second.initialize()
            // The same call whatever the order of its members and the spacing: arguments are compared in canonical
            // form (numbers as written).
            for (index, arguments) in [#"{"a":1,"b":[2]}"#, #"{"b":[2],"a":1}"#, #"{ "a" : 1, "b" : [ 2 ] }"#]
                .enumerated()
            {
                let response = second.callRaw(rawCall(id: "r\(index)", "fx__echo", arguments), id: "r\(index)")
                if index < 2 {
                    #expect(resultText(response) == arguments)
                } else {
                    #expect(refusal(response)?.contains("the same call to fx__echo was made 3 times within 1h") == true)
                }
            }
            #expect(repeats.calls().count == 2)
            #expect(second.auditRecords().first { $0["event"] == "drift" }?["drift"] == "repeats")
        }

        /// In monitor mode a breach is recorded as drift, and the calls it would refuse go through, marked as
        /// not enforced.
        @Test func monitorModeRecordsDriftWithoutStoppingTheAgent() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__read_file", "fx__echo"],
                extra: [("mode", "monitor"), ("behaviour", try json(#"{"failures": 1}"#))])
            try shim.initialize()
            for id in 0..<2 {
                let sentence = refusal(shim.call("fx__read_file", ["path": "/no/such/file"], id: .integer(id)))
                #expect(sentence?.hasPrefix("No such file") == true, "\(String(describing: sentence))")
            }
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: 2)) == #"{"n":1}"#)
            #expect(recording.calls().count == 3)
            let records = shim.auditRecords()
            #expect(records.filter { $0["event"] == "drift" }.map { $0["drift"] } == ["failures"])
            let last = try #require(records.last { $0["event"] == "call.decision" })
            #expect(last["decision"] == "deny" && last["enforced"] == false)
            #expect(last["rule"] == "behaviour.failures")
        }

        /// A cool-down ends: calls are judged afresh once it has passed.
        @Test func callsAreAcceptedAgainAfterTheCoolDown() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__echo"],
                extra: [("behaviour", try json(#"{"probes": 0, "coolDown": "1s"}"#))])
            try shim.initialize()
            #expect(shim.call("fx__nope", id: 1)?["error"]?["code"] == -32602)
            #expect(refusal(shim.call("fx__echo", ["n": 1], id: 2))?.contains("calls are refused for 1s") == true)
            // Waits out the cool-down (nothing here is timed: only "after it", however long after).
            usleep(1_200_000)
            #expect(resultText(shim.call("fx__echo", ["n": 2], id: 3)) == #"{"n":2}"#)
            #expect(recording.calls().count == 1)
        }

        @Test func afterReadingPrivateDataAnEgressToolIsRefusedAndTheTaintIsAudited() throws {
            let recording = Recording()
            let labels =
                #"{"tools": {"fx__read_customer": ["private-data"], "fx__fetch_url": ["untrusted-input"], "fx__post_url": ["egress"]}}"#
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__*"], extra: [("labels", try json(labels))])
            try shim.initialize()
            #expect(resultText(shim.call("fx__post_url", ["url": "https://partner.example/"], id: 1)) != nil)
            #expect(resultText(shim.call("fx__read_customer", ["id": "c-42"], id: 2)) != nil)
            let sentence = try #require(refusal(shim.call("fx__post_url", ["url": "https://partner.example/"], id: 3)))
            #expect(
                sentence.contains(
                    "fx__post_url is egress, and this session has read private-data (from fx__read_customer)"))
            #expect(sentence.hasSuffix("(rule flows.untrusted-or-private-to-egress)."))
            #expect(recording.calls().count == 2)
            let refused = try #require(shim.decisions().last)
            #expect(refused["decision"] == "deny")
            #expect(refused["rule"] == "flows.untrusted-or-private-to-egress")
            #expect(refused["taint"] == ["private-data:fx__read_customer"])

            // A flow of the persona's own, asking instead of denying, and labels given to a whole server.
            let second = Recording()
            let asking = try ShimProcess(
                servers: [("fx", second.server()), ("web", fixture(["--policy-tools"]))], allow: ["fx__*", "web__*"],
                extra: [
                    (
                        "labels",
                        try json(#"{"servers": {"web": ["untrusted-input"]}, "tools": {"fx__post_url": ["egress"]}}"#)
                    ),
                    (
                        "flows",
                        try json(
                            #"[{"id": "web-then-post", "from": ["untrusted-input"], "to": ["egress"], "decision": "ask"}]"#
                        )
                    ),
                    // Nobody can be asked out of band (no command, no terminal): the ask is refused at once.
                    ("approval", try json(#"{"terminal": false}"#)),
                ])
            try asking.initialize()
            #expect(resultText(asking.call("web__echo", ["q": "news"], id: 1)) != nil)
            let asked = try #require(refusal(asking.call("fx__post_url", ["url": "https://partner.example/"], id: 2)))
            #expect(asked.contains("needs approval") && asked.contains("no out-of-band approval channel"), "\(asked)")
            #expect(asking.decisions().last?["taint"] == ["untrusted-input:web__echo"])
            #expect(resultText(asking.call("fx__echo", ["n": 1], id: 3)) != nil)
            #expect(second.calls().count == 1)
        }

        @Test func annotationOverridesAreWhatTheAgentSeesAndReadOnlyHidesTheRest() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture(["--policy-tools"]))], allow: ["fx__*"],
                extra: [
                    ("readOnly", true),
                    (
                        "annotations",
                        try json(
                            #"{"fx__unhinted": {"readOnlyHint": true}, "fx__read_*": {"openWorldHint": true}, "fx__echo": {"readOnlyHint": false}}"#
                        )
                    ),
                ])
            try shim.initialize()
            let tools = try #require(
                shim.client.request("tools/list", id: "l").response?["result"]?["tools"]?.arrayValue)
            let byName = Dictionary(uniqueKeysWithValues: tools.map { ($0["name"]?.stringValue ?? "", $0) })
            #expect(byName["fx__unhinted"]?["annotations"] == ["readOnlyHint": true])
            #expect(byName["fx__read_file"]?["annotations"]?["openWorldHint"] == true)
            #expect(byName["fx__read_customer"]?["annotations"]?["openWorldHint"] == true)
            #expect(byName["fx__raw"] != nil)
            for hidden in ["fx__echo", "fx__refund", "fx__post_url", "fx__crash"] {
                #expect(byName[hidden] == nil, "\(hidden)")
            }
            #expect(byName.values.allSatisfy { $0["annotations"]?["readOnlyHint"] == true })

            let recording = Recording()
            let strict = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__*"], extra: [("readOnly", true)])
            try strict.initialize()
            let names = try strict.toolNames()
            #expect(names.contains("fx__read_file") && !names.contains("fx__unhinted") && !names.contains("fx__refund"))
            // A tool without hints is refused like one that does not exist.
            #expect(
                strict.call("fx__unhinted", id: 1)?["error"] == [
                    "code": -32602, "message": "Unknown tool: fx__unhinted",
                ])
            #expect(strict.decisions().last?["rule"] == "readOnly")
            #expect(resultText(strict.call("fx__read_file", ["path": "/"], id: 2)) != nil)
            #expect(recording.calls().count == 1)
        }

        @Test func hiddenCharactersAreCleanedFromToolTextAndTheCleaningIsAudited() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture(["--policy-tools"]))], allow: ["fx__dirty", "fx__echo"])
            try shim.initialize()
            let reply = shim.client.request("tools/list", id: "l")
            let line = try #require(reply.response)
            let dirty = try #require(line["result"]?["tools"]?.arrayValue?.first { $0["name"] == "fx__dirty" })
            #expect(dirty["title"] == "Dirty notes")
            #expect(dirty["description"] == "Reads notes. Plain.")
            #expect(dirty["inputSchema"]?["properties"]?["note"]?["description"] == "A note.")
            let text = JSONWriter.string(line)
            let hidden = text.unicodeScalars.filter {
                $0.value == 0x1B || (0x200B...0x200D).contains($0.value) || (0x202A...0x202E).contains($0.value)
                    || (0x2066...0x2069).contains($0.value) || $0.value == 0xFEFF || $0.value >= 0xE0000
            }
            #expect(hidden.isEmpty)
            let record = try #require(shim.auditRecords().first { $0["event"] == "session.tools" })
            #expect(record["cleanedTools"] == ["fx__dirty"])
        }
    }
}
