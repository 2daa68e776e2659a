import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    @Suite struct Forwarding {
        static let raw =
            #"{"content":[{"type":"text","text":"raw"}],"structuredContent":{"z":1.0,"a":1e400,"big":12345678901234567890,"neg":-0.0,"esc":"\u00e9\ud83d\ude00","m":{"y":[1.50,2E+3],"x":null}},"isError":false}"#

        @Test(arguments: [#""x""#, "7", "12345678901234567890", #""1""#, "1"])
        func resultsArriveByteForByteWithTheAgentsId(_ id: String) throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__raw"])
            try shim.initialize()
            let line = try shim.roundTrip(
                #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"fx__raw","arguments":{}}}"#)
            #expect(line.contains(#""result":"# + Self.raw))
            #expect(line.contains(#""id":\#(id),"#))
            let envelope = try JSONValue(parsing: line)
            #expect(JSONWriter.string(envelope["id"]!) == id)
        }

        @Test func argumentsReachTheServerExactlyAsSent() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let arguments = #"{"z":1.0,"a":1e400,"n":12345678901234567890,"s":"\u00e9"}"#
            let line = try shim.roundTrip(
                #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":\#(arguments),"name":"fx__echo"}}"#
            )
            let text = try JSONValue(parsing: line)["result"]?["content"]?[0]?["text"]?.stringValue
            #expect(text == arguments)
        }

        @Test func idsOfDifferentTypesStayApart() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__slow", "fx__echo"])
            try shim.initialize()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__slow","arguments":{"ms":200}}}"#)
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"1","method":"tools/call","params":{"name":"fx__echo","arguments":{"which":"string"}}}"#
            )
            var replies: [String: JSONValue] = [:]
            for _ in 0..<2 {
                let message = try #require(shim.client.readMessage(timeout: 10))
                replies[JSONWriter.string(message["id"]!)] = message
            }
            #expect(replies[#""1""#]?["result"]?["content"]?[0]?["text"] == #"{"which":"string"}"#)
            #expect(replies["1"]?["result"]?["content"]?[0]?["text"] == #"{"ms":200}"#)
        }

        @Test func pipelinedCallsAcrossServersAllComeBack() throws {
            let shim = try ShimProcess(
                servers: [("a", fixture()), ("b", fixture()), ("c", fixture())], allow: ["*__echo"])
            try shim.initialize()
            for index in 0..<300 {
                let server = ["a", "b", "c"][index % 3]
                try shim.client.send(
                    #"{"jsonrpc":"2.0","id":\#(index),"method":"tools/call","params":{"name":"\#(server)__echo","arguments":{"i":\#(index)}}}"#
                )
            }
            var seen = Set<Int>()
            for _ in 0..<300 {
                let message = try #require(shim.client.readMessage(timeout: 10))
                let id = try #require(message["id"]?.intValue)
                #expect(message["result"]?["content"]?[0]?["text"] == .string(#"{"i":\#(id)}"#))
                seen.insert(id)
            }
            #expect(seen.count == 300)
            #expect(shim.auditRecords().filter { $0["event"] == "call.outcome" }.count == 300)
        }

        @Test func largeResultsPassIntact() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__blob"])
            try shim.initialize()
            let size = 8 * 1024 * 1024
            let reply = shim.call("fx__blob", ["bytes": .integer(size)])
            let text = reply?["result"]?["content"]?[0]?["text"]?.stringValue
            #expect(text?.utf8.count == size)
        }

        @Test func largeAndSmallAnswersInterleavedFromOneServerAllArriveWhole() throws {
            // A large answer is written from the buffer it arrived in while smaller ones queue behind it.
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__blob", "fx__echo"])
            try shim.initialize()
            let size = 2 * 1024 * 1024
            var lines: [String] = []
            for round in 0..<3 {
                lines.append(
                    #"{"jsonrpc":"2.0","id":\#(round * 10),"method":"tools/call","params":{"name":"fx__blob","arguments":{"bytes":\#(size)}}}"#
                )
                for offset in 1...2 {
                    lines.append(
                        #"{"jsonrpc":"2.0","id":\#(round * 10 + offset),"method":"tools/call","params":{"name":"fx__echo","arguments":{"i":\#(round * 10 + offset)}}}"#
                    )
                }
            }
            try shim.client.send(lines.joined(separator: "\n"))
            var seen: [Int] = []
            for _ in 0..<9 {
                let message = try #require(shim.client.readMessage(timeout: 20))
                let id = try #require(message["id"]?.intValue)
                let text = message["result"]?["content"]?[0]?["text"]?.stringValue ?? ""
                if id % 10 == 0 {
                    #expect(text.utf8.count == size, "blob \(id)")
                } else {
                    #expect(text == #"{"i":\#(id)}"#)
                }
                seen.append(id)
            }
            // One server answers in order, and the shim keeps that order.
            #expect(seen == [0, 1, 2, 10, 11, 12, 20, 21, 22])
        }

        @Test(arguments: [
            ("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"),
            ("2025-11-25", "2025-11-25"), ("1999-01-01", "2025-11-25"),
        ])
        func versionNegotiation(_ requested: String, _ expected: String) throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            let response = try shim.initialize(version: requested)
            #expect(response["result"]?["protocolVersion"] == .string(expected))
            #expect(response["result"]?["capabilities"]?["tools"]?["listChanged"] == true)
            #expect(response["result"]?["serverInfo"]?["name"] == "persona-shim")
        }

        @Test func toolErrorsAndProtocolErrorsAreForwardedAndAudited() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__fail", "fx__protocol_error"])
            try shim.initialize()
            #expect(shim.call("fx__fail")?["result"]?["isError"] == true)
            #expect(shim.call("fx__protocol_error")?["error"]?["code"] == -32000)
            let outcomes = shim.auditRecords().filter { $0["event"] == "call.outcome" }.map { $0["outcome"] }
            #expect(outcomes == ["tool_error", "protocol_error"])
        }

        @Test func aHungCallTimesOutAndTheServerIsTold() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture(["--stderr-chatter"]))], allow: ["fx__hang", "fx__echo"],
                extra: [("timeouts", ["callSeconds": 1])])
            try shim.initialize()
            let started = Date()
            let reply = shim.call("fx__hang")
            #expect(reply?["error"]?["code"] == -32001)
            #expect(Date().timeIntervalSince(started) >= 0.9)
            #expect(shim.call("fx__echo", ["after": true])?["result"] != nil)
            #expect(shim.auditRecords().contains { $0["outcome"] == "timeout" && $0["tool"] == "fx__hang" })
            #expect(eventually { shim.client.standardError.contains("notifications/cancelled") })
        }

        @Test func cancelledCallsGetNoLateAnswer() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__slow", "fx__echo"])
            try shim.initialize()
            _ = try shim.toolNames()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"fx__slow","arguments":{"ms":300}}}"#
            )
            try shim.client.send(
                #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1","reason":"user"}}"#)
            usleep(500_000)
            let next = shim.client.request(
                "tools/call", params: ["name": "fx__echo", "arguments": ["x": 1]], id: "after")
            #expect(next.response?["id"] == "after")
            #expect(!next.others.contains { $0["id"] == "c1" })
            #expect(shim.client.readLine(timeout: 0.3) == nil)
            #expect(shim.auditRecords().contains { $0["outcome"] == "cancelled" })
        }

        @Test func aRequestCancelledWhileServersStartIsNeverForwarded() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--list-delay", "500"]))], allow: ["fx__echo"])
            try shim.initialize()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"early","method":"tools/call","params":{"name":"fx__echo","arguments":{"n":1}}}"#
            )
            try shim.client.send(
                #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"early"}}"#)
            let next = shim.client.request("tools/list", id: "after")
            #expect(next.response?["id"] == "after")
            #expect(!next.others.contains { $0["id"] == "early" })
            #expect(!shim.auditRecords().contains { $0["event"] == "call.decision" })
        }
    }
}
