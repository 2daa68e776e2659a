import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// Rate limits and budgets through the binary, counted by what reached the server.
    @Suite struct CallLimits {
        @Test func pipelinedCallsCannotOvershootARateLimit() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__echo"],
                extra: [("limits", try json(#"[{"id": "echo-rate", "tools": ["fx__e*"], "calls": 10, "per": "1h"}]"#))]
            )
            try shim.initialize()
            // All 200 are written before a single answer is read: they are in flight together.
            var burst: [UInt8] = []
            for index in 0..<200 {
                burst += Array((rawCall(id: "p\(index)", "fx__echo", #"{"n":\#(index)}"#) + "\n").utf8)
            }
            try shim.client.send(burst, newline: false)
            var answers: [String: JSONValue] = [:]
            while answers.count < 200, let message = shim.client.readMessage(timeout: 30) {
                if let id = message["id"]?.stringValue { answers[id] = message }
            }
            try #require(answers.count == 200, "stderr: \(shim.client.standardError)")
            let allowed = (0..<200).filter { resultText(answers["p\($0)"]) != nil }
            #expect(allowed == Array(0..<10))
            for index in 10..<200 {
                let sentence = try #require(
                    refusal(answers["p\(index)"]), "p\(index): \(String(describing: answers["p\(index)"]))")
                #expect(
                    sentence.contains("Limit \"echo-rate\" (10 calls per 1h to tools matching fx__e*)"), "\(sentence)")
                #expect(sentence.contains("is reached; the next call will be allowed in 60 minutes"), "\(sentence)")
                #expect(sentence.hasSuffix("(rule limits.echo-rate)."))
            }
            let received = recording.calls()
            #expect(received.count == 10)
            #expect(
                received.map { (try? JSONValue(parsing: $0))?["params"]?["arguments"]?["n"] }
                    == (0..<10).map { .integer($0) })
            let decisions = shim.decisions()
            #expect(decisions.count == 200)
            #expect(decisions.filter { $0["decision"] == "deny" && $0["rule"] == "limits.echo-rate" }.count == 190)
        }

        @Test func aSessionBudgetIsUsedUpAndNotRefilled() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__echo", "fx__refund"],
                extra: [("limits", try json(#"[{"id": "session-budget", "calls": 3}]"#))])
            try shim.initialize()
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: 1)) != nil)
            #expect(resultText(shim.call("fx__refund", ["amount": 1], id: 2)) != nil)
            #expect(resultText(shim.call("fx__echo", ["n": 3], id: 3)) != nil)
            for id in 4...6 {
                let sentence = try #require(
                    refusal(shim.call(id == 5 ? "fx__refund" : "fx__echo", ["n": 4], id: .integer(id))))
                #expect(sentence.contains("Limit \"session-budget\""), "\(sentence)")
                #expect(sentence.contains("is used up; no further calls are allowed in this session"), "\(sentence)")
            }
            #expect(recording.calls().count == 3)
            let refused = shim.decisions().filter { $0["decision"] == "deny" }
            #expect(refused.count == 3)
            #expect(refused.allSatisfy { $0["rule"] == "limits.session-budget" && $0["reason"] != nil })
        }

        /// A call counts when it is judged, so one refused after counting (here, for want of an approval) must give
        /// its place back, in the session and in the state file.
        @Test func aRefusedCallCountsAgainstNothing() throws {
            let state = Scratch()
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__refund"],
                extra: [
                    (
                        "rules",
                        try json(
                            #"[{"id": "big", "tools": ["fx__refund"], "when": {"amount": {"minimum": 50}}, "decision": "ask"}]"#
                        )
                    ),
                    (
                        "limits",
                        try json(
                            #"[{"id": "one", "calls": 1}, {"id": "daily", "calls": 1, "per": "1d", "acrossSessions": true}]"#
                        )
                    ),
                    // Nobody can be asked out of band (no command, no terminal): the ask is refused at once.
                    ("approval", try json(#"{"terminal": false}"#)),
                ], environment: ["XDG_STATE_HOME": state.path])
            try shim.initialize()
            #expect(refusal(shim.call("fx__refund", ["amount": 60], id: 1))?.hasSuffix("(rule big).") == true)
            #expect(resultText(shim.call("fx__refund", ["amount": 10], id: 2)) != nil)
            let sentence = try #require(refusal(shim.call("fx__refund", ["amount": 10], id: 3)))
            #expect(sentence.contains("Limit \"daily\"") || sentence.contains("Limit \"one\""), "\(sentence)")
            #expect(recording.calls().count == 1)
        }

        @Test func aServerLimitCountsOnlyThatServersTools() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server()), ("other", fixture(["--policy-tools"]))],
                allow: ["fx__echo", "fx__refund", "other__echo"],
                extra: [("limits", try json(#"[{"id": "fx-rate", "servers": ["fx"], "calls": 2, "per": "1m"}]"#))])
            try shim.initialize()
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: 1)) != nil)
            #expect(resultText(shim.call("fx__refund", ["amount": 1], id: 2)) != nil)
            for id in 3...5 {
                #expect(resultText(shim.call("other__echo", ["n": .integer(id)], id: .integer(id))) != nil)
            }
            let sentence = try #require(refusal(shim.call("fx__echo", ["n": 6], id: 6)))
            #expect(sentence.contains("Limit \"fx-rate\" (2 calls per 1m to server fx)"), "\(sentence)")
            #expect(sentence.contains("the next call will be allowed in "), "\(sentence)")
            #expect(recording.calls().count == 2)
        }

        static let nightly =
            #"[{"id": "nightly refunds", "tools": ["fx__refund"], "calls": 3, "per": "1d", "acrossSessions": true}]"#

        @Test func aLimitAcrossSessionsCountsEverySessionOfThePersona() throws {
            let state = Scratch()
            let recordings = [Recording(), Recording()]
            var outcomes: [[Bool]] = []
            for (run, recording) in recordings.enumerated() {
                let shim = try ShimProcess(
                    servers: [("fx", recording.server())], allow: ["fx__refund"],
                    extra: [("limits", try json(Self.nightly))], environment: ["XDG_STATE_HOME": state.path])
                try shim.initialize()
                var allowed: [Bool] = []
                for call in 0..<2 {
                    let response = shim.call("fx__refund", ["amount": .integer(call)], id: .integer(call))
                    allowed.append(resultText(response) != nil)
                    if let sentence = refusal(response) {
                        #expect(sentence.contains("Limit \"nightly refunds\" (3 calls per 1d"), "\(sentence)")
                        #expect(sentence.contains("across all sessions) is reached"), "\(sentence)")
                        #expect(sentence.contains("the next call will be allowed in 24 hours"), "\(sentence)")
                    }
                }
                outcomes.append(allowed)
                #expect(shim.finish() == .exited(0), "run \(run): \(shim.client.standardError)")
            }
            #expect(outcomes == [[true, true], [true, false]])
            #expect(recordings.map { $0.calls().count } == [2, 1])
            let file = state.path + "/persona-shim/limits/test-persona.nightly_refunds.calls"
            #expect(FileManager.default.fileExists(atPath: file))
        }

        @Test func aLimitAcrossSessionsThatCannotBeKeptRefusesItsCalls() throws {
            let state = Scratch()
            // The state directory's place is taken by a file: the count can be neither read nor written.
            _ = state.write("persona-shim", "not a folder")
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__refund", "fx__echo"],
                extra: [("limits", try json(Self.nightly))], environment: ["XDG_STATE_HOME": state.path])
            try shim.initialize()
            let sentence = try #require(refusal(shim.call("fx__refund", ["amount": 1])))
            #expect(sentence.contains("cannot be checked, so the call is refused"), "\(sentence)")
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: 2)) != nil)
            #expect(recording.calls().count == 1)
        }
    }
}
