import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Servers (and one agent) that break the protocol: the shim passes on nothing malformed, answers every request
    /// exactly once, and one flooding server neither makes it re-list without end nor starves the others.
    @Suite struct HostileServers {
        func misbehaving(_ extra: [String] = []) -> JSONValue { fixture(["--misbehaving-tools"] + extra) }

        @Test(arguments: [
            #"{"jsonrpc":"2.0","id":"both","method":"tools/call","params":{"name":"fx__echo","arguments":{}},"result":{}}"#,
            #"{"jsonrpc":"2.0","result":{},"id":"both","method":"tools/call","params":{"name":"fx__echo","arguments":{}}}"#,
            #"{"jsonrpc":"2.0","id":"both","method":"tools/call","params":{"name":"fx__echo","arguments":{}},"error":{"code":1,"message":"x"}}"#,
        ])
        func aCallThatAlsoCarriesAResultOrAnErrorIsRefusedAndNeverForwarded(_ line: String) throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--stderr-chatter"]))], allow: ["fx__echo"])
            try shim.initialize()
            let reply = try JSONValue(parsing: try shim.roundTrip(line))
            #expect(reply["id"] == "both")
            #expect(reply["error"]?["code"] == -32600)
            // The fixture writes a stderr line for every message it reads; a call that follows is its only call.
            #expect(shim.call("fx__echo", ["after": true], id: 2)?["result"] != nil)
            #expect(eventually { shim.client.standardError.contains("fixture: received tools/call") })
            #expect(shim.client.standardError.components(separatedBy: "fixture: received tools/call").count == 2)
            #expect(shim.auditRecords().filter { $0["event"] == "call.decision" }.count == 1)
        }

        @Test(arguments: [
            "no_jsonrpc", "jsonrpc_1_0", "result_and_error", "error_code_not_integer", "error_without_message",
            "not_json",
        ])
        func aMalformedAnswerBecomesOneWellFormedErrorAndServingGoesOn(_ kind: String) throws {
            let shim = try ShimProcess(servers: [("fx", misbehaving())], allow: ["fx__malformed", "fx__echo"])
            try shim.initialize()
            // Far below the default call timeout of 300 s: an answer at all means the call was settled at once.
            let reply = shim.client.request(
                "tools/call", params: ["name": "fx__malformed", "arguments": ["kind": .string(kind)]], id: "bad",
                timeout: 30)
            let answer = try #require(reply.response, "no answer; stderr: \(shim.client.standardError)")
            #expect(reply.others.isEmpty)
            #expect(answer.objectValue?.keys.sorted() == ["error", "id", "jsonrpc"])
            #expect(answer["jsonrpc"] == "2.0")
            #expect(answer["error"]?["code"] == -32603)
            let message = answer["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("The server fx sent a malformed answer to fx__malformed"), "\(message)")
            // The fixture followed the broken answer with a well-formed one to the same id: it is owed nothing, so
            // that second answer, which the shim reads before the next call's, must not reach the agent.
            let later = shim.client.request("tools/call", params: ["name": "fx__echo", "arguments": [:]], id: "later")
            #expect(later.response?["result"] != nil)
            #expect(!later.others.contains { $0["id"] == "bad" }, "\(later.others)")
            #expect(eventually { shim.client.standardError.contains("[fx] dropped a") })
            let outcomes = shim.auditRecords().filter { $0["event"] == "call.outcome" }
            #expect(outcomes.map { $0["tool"] } == ["fx__malformed", "fx__echo"])
            #expect(outcomes.first?["outcome"] == "malformed_response")
        }

        @Test func aMalformedRequestFromTheServerSettlesNoCallOfTheShims() throws {
            // Server and shim number their requests each on their own: the fixture's malformed ping uses the id of
            // the call it then answers properly.
            let shim = try ShimProcess(
                servers: [("fx", misbehaving(["--stderr-chatter"]))], allow: ["fx__malformed"])
            try shim.initialize()
            let reply = shim.call("fx__malformed", ["kind": "request_without_jsonrpc"], id: "call")
            #expect(reply?["result"]?["content"]?[0]?["text"] == "second answer", "\(String(describing: reply))")
            #expect(shim.auditRecords().filter { $0["event"] == "call.outcome" }.map { $0["outcome"] } == ["ok"])
            // The ping itself is answered with an error: the fixture reports a message without a method.
            #expect(eventually { shim.client.standardError.contains("fixture: received (no method)") })
        }

        /// 900 stays within the notification burst, so only coalescing bounds the listings; 5000 goes beyond it.
        @Test(arguments: [900, 5000])
        func aListChangedFloodCausesOnlyAHandfulOfListings(_ count: Int) throws {
            let shim = try ShimProcess(
                servers: [("fx", misbehaving(["--stderr-chatter"]))], allow: ["fx__flood_list_changed", "fx__echo"])
            try shim.initialize()
            func listings() -> Int {
                shim.client.standardError.components(separatedBy: "fixture: received tools/list").count - 1
            }
            #expect(try shim.toolNames().contains("fx__flood_list_changed"))
            #expect(eventually { listings() == 1 })
            let flood = shim.call("fx__flood_list_changed", ["count": .integer(count)], id: 1, timeout: 60)
            #expect(flood?["result"] != nil)
            // A listing the flood asked for may still be under way; a later call and a pause let it show.
            #expect(shim.call("fx__echo", id: 2)?["result"] != nil)
            usleep(1_000_000)
            let during = listings() - 1
            #expect(during >= 1, "the change was acted on")
            #expect(during <= 2, "one listing in flight, plus one for what changed meanwhile; saw \(during)")
            #expect(try shim.toolNames().contains("fx__echo"))
        }

        @Test func aServerFloodingLogsDoesNotStarveAnother() throws {
            let shim = try ShimProcess(
                servers: [("loud", fixture(["--protocol-tools"])), ("calm", fixture())],
                allow: ["loud__notify", "calm__echo"])
            try shim.initialize()
            let start = Date()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"flood","method":"tools/call","params":{"name":"loud__notify","arguments":{"count":200000,"kind":"message"}}}"#
            )
            // Calls to the calm server, one after another, while the loud one floods.
            let calls = 20
            var answered = 0
            var answeredDuringFlood = 0
            var notifications = 0
            var floodAnswer: JSONValue?
            func callCalm() throws {
                try shim.client.send(
                    #"{"jsonrpc":"2.0","id":\#(answered + 1),"method":"tools/call","params":{"name":"calm__echo","arguments":{}}}"#
                )
            }
            try callCalm()
            while floodAnswer == nil || answered < calls, let message = shim.client.readMessage(timeout: 60) {
                if message["method"] == "notifications/message" {
                    notifications += 1
                    #expect(message["params"]?["logger"] == "loud/fixture")
                } else if message["id"] == "flood" {
                    floodAnswer = message
                } else if message["id"] == .integer(answered + 1) {
                    #expect(message["result"] != nil)
                    answered += 1
                    if floodAnswer == nil { answeredDuringFlood += 1 }
                    if answered < calls { try callCalm() }
                } else {
                    Issue.record("unexpected message \(message)")
                }
            }
            let seconds = Date().timeIntervalSince(start)
            #expect(floodAnswer?["result"] != nil, "the answer after the flood still arrives")
            #expect(answered == calls)
            #expect(answeredDuringFlood >= 1, "the calm server was served while the loud one flooded")
            // A burst of 1000, then 500 a second, however fast the loud server writes.
            #expect(notifications >= 1000)
            #expect(Double(notifications) <= 1000 + 500 * (seconds + 0.5), "\(notifications) in \(seconds) s")
            let stderr = shim.client.standardError
            #expect(stderr.contains("[loud] sends more than 500 notifications a second"))
            // The log says what was dropped without becoming a flood itself: a line when dropping starts, then at
            // most one a second.
            let reports = stderr.split(separator: "\n").filter { $0.contains("[loud] dropped") }.count
            #expect(Double(reports) <= seconds + 1, "\(reports) lines about dropping in \(seconds) s")
        }
    }
}
