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
            try shim.initialize(capabilities: ["elicitation": ["form": [:]]])
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

        @Test func theBundledRefundsPersonaAsksBeforeARefundAndRunsItOnYes() throws {
            let text = try String(contentsOfFile: FirstHour.root + "/Personas/support-refunds.json", encoding: .utf8)
            let shim = try ShimProcess(persona: text)
            try shim.initialize(capabilities: ["elicitation": [:]])
            let small = shim.call(
                "billing__refund", ["invoiceId": "INV-2026-0301", "amountCents": 500, "reason": "goodwill"], id: "s")
            #expect(resultText(small) != nil, "\(String(describing: small))")
            try shim.client.send(
                rawCall(
                    id: "big", "billing__refund",
                    #"{"invoiceId":"INV-2026-0302","amountCents":4900,"reason":"duplicate charge, ticket T-1042"}"#))
            let asked = try question(shim)
            let message = asked["params"]?["message"]?.stringValue ?? ""
            #expect(message.contains(#""support-refunds""#) && message.contains("Refunds above 10.00"), "\(message)")
            let response = try answer(
                shim, asked, result: #"{"action":"accept","content":{"approve":true}}"#, callID: "big")
            #expect(resultText(response)?.contains("INV-2026-0302") == true, "\(String(describing: response))")
        }

        // MARK: New era

        static let modernMeta =
            #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{}}},"io.modelcontextprotocol/clientInfo":{"name":"scripted-modern","version":"1"}}"#

        func modernCall(_ shim: ShimProcess, id: String, arguments: String, extra: String = "") -> JSONValue? {
            shim.callRaw(
                #"{"jsonrpc":"2.0","id":"\#(id)","method":"tools/call","params":{"name":"fx__refund","arguments":\#(arguments)\#(extra),"_meta":\#(Self.modernMeta)}}"#,
                id: id)
        }

        static func retry(_ state: String, approve: Bool = true) -> String {
            #","inputResponses":{"persona-shim-approval":{"action":"accept","content":{"approve":\#(approve)}}},"requestState":"\#(state)""#
        }

        @Test func aNewEraRetryRunsOnlyWithTheApprovedArgumentsAndOnlyOnce() throws {
            let recording = Recording()
            let shim = try ShimProcess(
                servers: [("fx", recording.server())], allow: ["fx__refund"],
                extra: [("rules", try json(Self.rules))])
            let arguments = #"{"amount":250,"customer":"cus_1"}"#
            let interim = try #require(
                modernCall(shim, id: "q", arguments: arguments)?["result"], "stderr: \(shim.client.standardError)")
            #expect(interim["resultType"] == "input_required")
            let state = try #require(interim["requestState"]?.stringValue)
            // Other arguments with the approval: refused, audited, and the state stays usable for the right ones.
            let changed = try #require(
                refusal(
                    modernCall(
                        shim, id: "c", arguments: #"{"amount":2500,"customer":"cus_1"}"#, extra: Self.retry(state))))
            #expect(changed.contains("not the ones the person was asked about"), "\(changed)")
            #expect(recording.calls().isEmpty)
            // A forged state: refused.
            let forged = try #require(
                refusal(modernCall(shim, id: "f", arguments: arguments, extra: Self.retry(state + "00"))))
            #expect(forged.contains("forged or altered"), "\(forged)")
            let interim2 = try #require(modernCall(shim, id: "q2", arguments: arguments)?["result"])
            let state2 = try #require(interim2["requestState"]?.stringValue)
            let done = modernCall(shim, id: "r", arguments: arguments, extra: Self.retry(state2))
            #expect(resultText(done) != nil, "\(String(describing: done))")
            #expect(recording.calls().count == 1)
            #expect(
                recording.calls().first.map { !$0.contains("requestState") && $0.contains(#""amount":250"#) } == true)
            // Replayed: refused.
            let replayed = try #require(
                refusal(modernCall(shim, id: "p", arguments: arguments, extra: Self.retry(state2))))
            #expect(replayed.contains("already used"), "\(replayed)")
            #expect(recording.calls().count == 1)
            let decisions = shim.decisions().filter { $0["approval"] != nil }
            // The changed-arguments refusal and the approved call name their question; the forged and replayed
            // states name none the shim could trust.
            #expect(decisions.map { $0["decision"]?.stringValue } == ["deny", "allow"])
            #expect(decisions.last?["approvedArgsDigest"] == decisions.last?["argsDigest"])
        }
    }
}
