import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// The protocol beyond tools/call: progress, logging, server requests, resources, restarts, old revisions.
    @Suite struct ProtocolRouting {
        func protocolFixture(_ extra: [String] = []) -> JSONValue { fixture(["--protocol-tools"] + extra) }

        @Test(arguments: [#""tok-1""#, "7"])
        func progressArrivesWithTheAgentsTokenAndStopsAtTheAnswer(_ token: String) throws {
            let shim = try ShimProcess(servers: [("fx", protocolFixture())], allow: ["fx__notify"])
            try shim.initialize()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__notify","arguments":{"count":3,"kind":"progress"},"_meta":{"progressToken":\#(token)}}}"#
            )
            var progress: [JSONValue] = []
            while let message = shim.client.readMessage(timeout: 10) {
                if message["id"] == 1 { break }
                progress.append(message)
            }
            #expect(progress.count == 3)
            #expect(progress.allSatisfy { JSONWriter.string($0["params"]?["progressToken"] ?? .null) == token })
            #expect(progress.last?["params"]?["progress"] == 3)
        }

        @Test func logMessagesCarryTheServerNameAndRespectTheLevel() throws {
            let shim = try ShimProcess(servers: [("fx", protocolFixture())], allow: ["fx__notify"])
            try shim.initialize()
            let loud = shim.client.request(
                "tools/call", params: ["name": "fx__notify", "arguments": ["count": 2, "kind": "message"]], id: 1)
            #expect(loud.others.count == 2)
            #expect(loud.others.first?["params"]?["logger"] == "fx/fixture")
            let level = shim.client.request("logging/setLevel", params: ["level": "error"], id: 2)
            #expect(level.response?["result"] == [:])
            let quiet = shim.client.request(
                "tools/call", params: ["name": "fx__notify", "arguments": ["count": 2, "kind": "message"]], id: 3)
            #expect(quiet.response?["result"] != nil)
            #expect(quiet.others.isEmpty)
        }

        @Test func aBurstOfNotificationsWithinTheBoundIsDeliveredInFull() throws {
            let shim = try ShimProcess(servers: [("fx", protocolFixture())], allow: ["fx__notify"])
            try shim.initialize()
            let reply = shim.client.request(
                "tools/call", params: ["name": "fx__notify", "arguments": ["count": 1000, "kind": "message"]], id: 1,
                timeout: 60)
            #expect(reply.response?["result"] != nil)
            #expect(reply.others.count == 1000)
        }

        @Test func aFloodOfNotificationsIsBoundedAndTheShimSaysWhatItDropped() throws {
            let shim = try ShimProcess(servers: [("fx", protocolFixture())], allow: ["fx__notify"])
            try shim.initialize()
            let start = Date()
            let reply = shim.client.request(
                "tools/call", params: ["name": "fx__notify", "arguments": ["count": 20000, "kind": "message"]], id: 1,
                timeout: 60)
            let seconds = Date().timeIntervalSince(start)
            #expect(reply.response?["result"] != nil, "the answer after the flood still arrives")
            // A burst of 1000, then 500 a second: what the agent got is within that, however fast the server was.
            #expect(reply.others.count >= 1000)
            #expect(Double(reply.others.count) <= 1000 + 500 * (seconds + 0.5))
            #expect(reply.others.count < 20000)
            let later = shim.client.request(
                "tools/call", params: ["name": "fx__notify", "arguments": ["count": 1, "kind": "message"]], id: 2,
                timeout: 10)
            #expect(later.response?["result"] != nil)
            #expect(
                eventually {
                    shim.client.standardError.contains("notifications a second; dropping what is over the bound")
                })
        }

        @Test func serverRequestsWithCollidingIdsReachTheRightServer() throws {
            let shim = try ShimProcess(
                servers: [("a", protocolFixture(["--name", "a"])), ("b", protocolFixture(["--name", "b"]))],
                allow: ["*__ask"])
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{}},"clientInfo":{"name":"t","version":"1"}}}"#
            )
            _ = try #require(shim.client.readMessage(timeout: 10))
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"call-a","method":"tools/call","params":{"name":"a__ask","arguments":{"method":"roots/list"}}}"#
            )
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"call-b","method":"tools/call","params":{"name":"b__ask","arguments":{"method":"roots/list"}}}"#
            )
            var asks: [JSONValue] = []
            while asks.count < 2, let message = shim.client.readMessage(timeout: 10) {
                if message["method"] == "roots/list" { asks.append(message) }
            }
            #expect(asks.count == 2)
            #expect(asks[0]["id"] != asks[1]["id"], "two servers' requests must not share an id towards the agent")
            // Answer in reverse order, each with a root naming the server that asked.
            for ask in asks.reversed() {
                let id = JSONWriter.string(ask["id"]!)
                let asker = ask["params"]?["_meta"]?["fixture"]?.stringValue ?? "?"
                try shim.client.send(
                    #"{"jsonrpc":"2.0","id":\#(id),"result":{"roots":[{"uri":"file:///root-for-\#(asker)","name":"r"}]}}"#
                )
            }
            var answers: [String: String] = [:]
            while answers.count < 2, let message = shim.client.readMessage(timeout: 10) {
                if let id = message["id"]?.stringValue,
                    let text = message["result"]?["content"]?[0]?["text"]?.stringValue
                {
                    answers[id] = text
                }
            }
            // Each server got the answer to its own request, under its own id.
            #expect(answers["call-a"]?.contains(#""id":"fixture-ask""#) == true, "\(answers)")
            #expect(answers["call-a"]?.contains("root-for-a") == true, "\(answers)")
            #expect(answers["call-b"]?.contains("root-for-b") == true, "\(answers)")
        }

        @Test func serverRequestsTheAgentOrPersonaDoesNotAllowAreRefused() throws {
            let shim = try ShimProcess(servers: [("fx", protocolFixture())], allow: ["fx__ask"])
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"t","version":"1"}}}"#
            )
            _ = try #require(shim.client.readMessage(timeout: 10))
            let sampling = shim.client.request(
                "tools/call", params: ["name": "fx__ask", "arguments": ["method": "sampling/createMessage"]], id: 1)
            #expect(sampling.others.isEmpty, "sampling is off by default and must not reach the agent")
            #expect(
                sampling.response?["result"]?["content"]?[0]?["text"]?.stringValue?.contains("does not allow") == true)
            let roots = shim.client.request(
                "tools/call", params: ["name": "fx__ask", "arguments": ["method": "roots/list"]], id: 2)
            #expect(roots.others.isEmpty, "the agent did not declare roots")
            #expect(
                roots.response?["result"]?["content"]?[0]?["text"]?.stringValue?.contains("does not support") == true)
        }

        @Test func collidingResourceURIsStayApart() throws {
            let shim = try ShimProcess(
                servers: [
                    ("a", fixture(["--name", "a", "--resources"])), ("b", fixture(["--name", "b", "--resources"])),
                ],
                allow: ["*__echo"], deny: [],
                extra: [("resources", ["allow": ["*"], "deny": ["a+memo://a"]])])
            let initialize = try shim.initialize()
            #expect(initialize["result"]?["capabilities"]?["resources"] != nil)
            let list = shim.client.request("resources/list", id: 1).response
            let uris = list?["result"]?["resources"]?.arrayValue?.compactMap { $0["uri"]?.stringValue } ?? []
            #expect(uris == ["a+memo://shared", "b+memo://shared", "b+memo://b"])
            let read = shim.client.request("resources/read", params: ["uri": "b+memo://shared"], id: 2).response
            #expect(read?["result"]?["contents"]?[0]?["text"] == "b says hello")
            #expect(read?["result"]?["contents"]?[0]?["uri"] == "b+memo://shared")
            let hidden = shim.client.request("resources/read", params: ["uri": "a+memo://a"], id: 3).response
            let missing = shim.client.request("resources/read", params: ["uri": "c+memo://a"], id: 4).response
            #expect(hidden?["error"]?["code"] == -32002)
            #expect(hidden?["error"]?["message"] == missing?["error"]?["message"])
            let cursor = shim.client.request("resources/list", params: ["cursor": "forged"], id: 5).response
            #expect(cursor?["error"]?["code"] == -32602)
        }

        @Test func resourcesAreHiddenWithoutAResourcesSection() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--resources"]))], allow: ["fx__echo"])
            let initialize = try shim.initialize()
            #expect(initialize["result"]?["capabilities"]?["resources"] == nil)
            let list = shim.client.request("resources/list", id: 1).response
            #expect(list?["result"]?["resources"] == [])
            #expect(
                shim.client.request("resources/read", params: ["uri": "memo://shared"], id: 2).response?["error"]?[
                    "code"] == -32002)
        }

        @Test func aCrashedServerIsRestartedAndItsToolsReturn() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__crash", "fx__echo"])
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo", "fx__crash"])
            let crash = shim.client.request("tools/call", params: ["name": "fx__crash", "arguments": [:]], id: 1)
            #expect(crash.response?["error"]?["code"] == -32000)
            var sawListChanged = crash.others.contains { $0["method"] == "notifications/tools/list_changed" }
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if let message = shim.client.readMessage(timeout: 0.5),
                    message["method"] == "notifications/tools/list_changed"
                {
                    sawListChanged = true
                    if (try? shim.toolNames()) == ["fx__echo", "fx__crash"] { break }
                }
            }
            #expect(sawListChanged)
            #expect(shim.call("fx__echo", ["back": true], id: 2)?["result"] != nil)
            #expect(shim.auditRecords().contains { $0["event"] == "child.restart" && $0["server"] == "fx" })
        }

        @Test func anOlderAgentNeverSeesNewerFields() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__raw", "fx__echo"])
            let initialize = try shim.initialize(version: "2025-03-26")
            #expect(initialize["result"]?["serverInfo"]?["title"] == nil)
            let tools = shim.client.request("tools/list", id: 1).response?["result"]?["tools"]?.arrayValue ?? []
            #expect(tools.count == 2)
            #expect(tools.allSatisfy { $0["title"] == nil && $0["outputSchema"] == nil && $0["annotations"] != nil })
            let raw = shim.call("fx__raw", id: 2)?["result"]
            #expect(raw?["structuredContent"] == nil)
            #expect(raw?["content"]?[0]?["text"] == "raw")
        }
    }
}
