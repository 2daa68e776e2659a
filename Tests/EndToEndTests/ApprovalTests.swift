import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    /// Human approval through the real binary over pipes, with a scripted agent that answers the shim's own
    /// `elicitation/create`: only an accepted yes lets the one parked call through, byte for byte.
    @Suite struct ApprovalTests {
        static let rules = #"""
            [{"id": "big-refunds", "tools": ["fx__refund"], "when": {"amount": {"exclusiveMinimum": 100}},
              "decision": "ask", "reason": "Refunds above 100 need a person"}]
            """#

        func start(_ recording: Recording) throws -> ShimProcess {
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__refund", "fx__echo"],
                extra: [("rules", try json(Self.rules)), ("approval", try json(#"{"timeoutSeconds": 60}"#))])
            let reply = shim.client.request(
                "initialize",
                params: [
                    "protocolVersion": "2025-11-25", "capabilities": ["elicitation": ["form": [:]]],
                    "clientInfo": ["name": "scripted-agent", "version": "1"],
                ], id: 0)
            _ = try #require(reply.response, "stderr: \(shim.client.standardError)")
            try shim.client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            return shim
        }

        /// Reads until the shim's `elicitation/create` arrives; returns it.
        func question(_ shim: ShimProcess) throws -> JSONValue {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                guard let message = shim.client.readMessage(timeout: deadline.timeIntervalSinceNow) else { break }
                if message["method"] == "elicitation/create" { return message }
            }
            Issue.record("no elicitation/create; stderr: \(shim.client.standardError)")
            throw CancellationError()
        }

        /// Answers the question and returns the call's response.
        func answer(_ shim: ShimProcess, _ question: JSONValue, result: String, callID: String) throws -> JSONValue? {
            let id = try #require(question["id"]?.intValue)
            try shim.client.send(#"{"jsonrpc":"2.0","id":\#(id),"result":\#(result)}"#)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                guard let message = shim.client.readMessage(timeout: deadline.timeIntervalSinceNow) else { break }
                if message["id"]?.stringValue == callID { return message }
            }
            return nil
        }

        @Test func anAcceptedYesRunsExactlyTheParkedCall() throws {
            let recording = Recording()
            let shim = try start(recording)
            let sent = rawCall(id: "r1", "fx__refund", #"{ "amount" : 250.00, "customer":"cus_1" }"#)
            try shim.client.send(sent)
            let asked = try question(shim)
            let message = try #require(asked["params"]?["message"]?.stringValue)
            #expect(message.contains(#"{"amount":250.00,"customer":"cus_1"}"#), "\(message)")
            #expect(message.contains("fx__refund") && message.contains("Refunds above 100 need a person"))
            // While the refund waits, another call goes through.
            #expect(resultText(shim.call("fx__echo", ["n": 1], id: "e1")) != nil)
            #expect(recording.calls().count == 1)
            let response = try answer(
                shim, asked, result: #"{"action":"accept","content":{"approve":true}}"#, callID: "r1")
            #expect(resultText(response) != nil, "\(String(describing: response))")
            let received = try #require(recording.calls().last)
            expectForwardedUnchanged(sent: sent, received: received, exposedName: "fx__refund", tool: "refund")
            let records = shim.auditRecords()
            let asking = try #require(records.first { $0["event"] == "approval.asked" })
            let answered = try #require(records.first { $0["event"] == "approval.answered" })
            let decision = try #require(records.last { $0["event"] == "call.decision" && $0["tool"] == "fx__refund" })
            #expect(answered["answer"] == "approved" && answered["by"] == "client")
            #expect(decision["approval"] == asking["approval"])
            #expect(decision["approvedArgsDigest"] == decision["argsDigest"])
            // The answer was on file before the decision that released the call.
            let answeredSeq = try #require(answered["seq"]?.intValue)
            #expect(try #require(decision["seq"]?.intValue) > answeredSeq)
        }

        @Test func aDeclineRefusesAndNothingReachesTheServer() throws {
            let recording = Recording()
            let shim = try start(recording)
            try shim.client.send(rawCall(id: "r1", "fx__refund", #"{"amount":500}"#))
            let asked = try question(shim)
            let response = try answer(shim, asked, result: #"{"action":"decline"}"#, callID: "r1")
            let text = try #require(refusal(response))
            #expect(text.contains("did not approve") && text.contains("rule big-refunds"), "\(text)")
            #expect(recording.calls().isEmpty)
            #expect(shim.auditRecords().contains { $0["event"] == "approval.answered" && $0["answer"] == "denied" })
        }
    }
}
