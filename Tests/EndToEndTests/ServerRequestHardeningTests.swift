import Foundation
import PersonaShim
import Testing

extension ShimProcess {
    /// Initializes as an agent declaring exactly `capabilities` (a JSON object's text) at `version`.
    func initialize(capabilities: String, version: String = "2025-11-25") throws {
        try client.send(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":\#(capabilities),"clientInfo":{"name":"e2e-agent","version":"1"}}}"#
        )
        let reply = try #require(client.readMessage(timeout: 30), "stderr: \(client.standardError)")
        #expect(reply["result"]?["protocolVersion"] == .string(version))
        try client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    }

    /// Calls `tool` and plays the agent until its answer: `answer` is asked to reply to each request the shim
    /// relays. Returns the answer and everything else that arrived.
    func callAnswering(
        _ tool: String, _ arguments: JSONValue = [:], answer: (JSONValue) -> JSONValue
    ) throws -> (response: JSONValue?, requests: [JSONValue], notifications: [JSONValue]) {
        try client.send(
            .object(
                JSONObject([
                    ("jsonrpc", "2.0"), ("id", "call"), ("method", "tools/call"),
                    ("params", ["name": .string(tool), "arguments": arguments]),
                ])))
        var requests: [JSONValue] = []
        var notifications: [JSONValue] = []
        while let message = client.readMessage(timeout: 30) {
            if message["id"] == "call" && message["method"] == nil { return (message, requests, notifications) }
            if let id = message["id"], message["method"] != nil {
                requests.append(message)
                try client.send(.object(JSONObject([("jsonrpc", "2.0"), ("id", id), ("result", answer(message))])))
            } else {
                notifications.append(message)
            }
        }
        return (nil, requests, notifications)
    }
}

extension EndToEnd {
    /// Requests from servers to the agent: only what the agent declared it can take, always saying which server
    /// asks, and completions only for elicitations the completing server started.
    @Suite struct ServerRequestHardening {
        /// What the fixture got back from the shim for the request it sent, as the call's text.
        func fixtureSaw(_ response: JSONValue?) throws -> JSONValue {
            let text = try #require(
                response?["result"]?["content"]?[0]?["text"]?.stringValue, "\(String(describing: response))")
            return try JSONValue(parsing: text)
        }

        @Test func aURLElicitationAndItsCompletionReachAnAgentThatDeclaredURLMode() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--misbehaving-tools"]))], allow: ["fx__elicit_url"])
            try shim.initialize(capabilities: #"{"elicitation":{"form":{},"url":{}}}"#)
            let reply = try shim.callAnswering("fx__elicit_url") { _ in ["action": "accept"] }
            let ask = try #require(reply.requests.first)
            #expect(reply.requests.count == 1)
            #expect(ask["method"] == "elicitation/create")
            #expect(ask["params"]?["mode"] == "url")
            #expect(ask["params"]?["elicitationId"] == "fixture-url-elicitation")
            #expect(ask["params"]?["url"] == "https://example.com/consent")
            #expect(ask["params"]?["message"] == #"[server "fx" asks] Open the page to connect your account"#)
            // The fixture completed one elicitation it never started, then its own: only its own is passed on.
            let completions = reply.notifications.filter { $0["method"] == "notifications/elicitation/complete" }
            #expect(completions.map { $0["params"]?["elicitationId"] } == ["fixture-url-elicitation"])
            #expect(try fixtureSaw(reply.response)["result"]?["action"] == "accept")
        }

        @Test func twoServersUsingTheSameElicitationIdStayApart() throws {
            let shim = try ShimProcess(
                servers: [("a", fixture(["--misbehaving-tools"])), ("b", fixture(["--misbehaving-tools"]))],
                allow: ["*__elicit_url"])
            try shim.initialize(capabilities: #"{"elicitation":{"url":{}}}"#)
            // Both servers start an elicitation with the id "fixture-url-elicitation"; the agent answers b first.
            var asks: [String: JSONValue] = [:]
            for server in ["a", "b"] {
                try shim.client.send(
                    #"{"jsonrpc":"2.0","id":"call-\#(server)","method":"tools/call","params":{"name":"\#(server)__elicit_url","arguments":{}}}"#
                )
                while asks[server] == nil, let message = shim.client.readMessage(timeout: 30) {
                    if message["method"] == "elicitation/create" { asks[server] = message }
                }
            }
            let idA = try #require(asks["a"]?["params"]?["elicitationId"])
            let idB = try #require(asks["b"]?["params"]?["elicitationId"])
            #expect(idA != idB, "the agent must be able to tell the two elicitations apart")
            var completions: [JSONValue] = []
            for server in ["b", "a"] {
                try shim.client.send(
                    .object(
                        JSONObject([
                            ("jsonrpc", "2.0"), ("id", asks[server]!["id"]!), ("result", ["action": "accept"]),
                        ])))
                while let message = shim.client.readMessage(timeout: 30) {
                    if message["method"] == "notifications/elicitation/complete" { completions.append(message) }
                    if message["id"] == .string("call-\(server)") { break }
                }
            }
            // Each server's completion of its own elicitation, under the id the agent knows it by.
            #expect(completions.map { $0["params"]?["elicitationId"] } == [idB, idA])
        }

        @Test func anElicitationRequiredErrorSaysWhichServerAsksAndItsCompletionFollows() throws {
            let shim = try ShimProcess(
                servers: [("a", fixture(["--misbehaving-tools"])), ("b", fixture(["--misbehaving-tools"]))],
                allow: ["*__elicit_url", "*__require_url_elicitation"])
            try shim.initialize(capabilities: #"{"elicitation":{"url":{}}}"#)
            // b holds an open elicitation under the id a is about to use.
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"call-b","method":"tools/call","params":{"name":"b__elicit_url","arguments":{}}}"#
            )
            var ask: JSONValue?
            while ask == nil, let message = shim.client.readMessage(timeout: 30) {
                if message["method"] == "elicitation/create" { ask = message }
            }
            let idB = try #require(ask?["params"]?["elicitationId"])
            let reply = try shim.callAnswering("a__require_url_elicitation") { _ in [:] }
            let error = try #require(reply.response?["error"], "\(String(describing: reply.response))")
            #expect(error["code"] == -32042)
            let elicitation = try #require(error["data"]?["elicitations"]?[0])
            #expect(elicitation["message"] == #"[server "a" asks] persona-shim: approve this in your browser"#)
            #expect(elicitation["url"] == "https://example.com/consent")
            let idA = try #require(elicitation["elicitationId"])
            #expect(idA != idB)
            // a completes its elicitation right after the error; then the agent answers b, which completes its own.
            var completions: [JSONValue] = []
            let answer = JSONObject([("jsonrpc", "2.0"), ("id", ask!["id"]!), ("result", ["action": "accept"])])
            try shim.client.send(.object(answer))
            while let message = shim.client.readMessage(timeout: 30) {
                if message["method"] == "notifications/elicitation/complete" { completions.append(message) }
                if message["id"] == "call-b" { break }
            }
            #expect(completions.map { $0["params"]?["elicitationId"] } == [idA, idB])
        }

        @Test(arguments: [
            (#"{"elicitation":{}}"#, "2025-11-25", "did not declare URL-mode elicitation"),
            (#"{"elicitation":{"form":{},"url":{}}}"#, "2025-06-18", "needs protocol revision 2025-11-25"),
        ])
        func aURLElicitationNeverReachesAnAgentThatCannotTakeIt(
            _ capabilities: String, _ version: String, _ reason: String
        ) throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--misbehaving-tools"]))], allow: ["fx__elicit_url"])
            try shim.initialize(capabilities: capabilities, version: version)
            let reply = try shim.callAnswering("fx__elicit_url") { _ in ["action": "accept"] }
            #expect(reply.requests.isEmpty, "\(reply.requests)")
            #expect(reply.notifications.isEmpty, "no completion either: \(reply.notifications)")
            let saw = try fixtureSaw(reply.response)
            #expect(saw["error"]?["code"] == -32602)
            #expect(saw["error"]?["message"]?.stringValue?.contains(reason) == true, "\(saw)")
        }

        @Test(arguments: [(#"{"sampling":{}}"#, false), (#"{"sampling":{"tools":{}}}"#, true)])
        func samplingWithToolsReachesOnlyAnAgentThatDeclaredToolUse(_ capabilities: String, _ reaches: Bool) throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture(["--misbehaving-tools"]))], allow: ["fx__sample_with_tools"],
                extra: [("serverRequests", ["sampling": true])])
            try shim.initialize(capabilities: capabilities)
            let reply = try shim.callAnswering("fx__sample_with_tools") { _ in
                [
                    "role": "assistant", "content": ["type": "text", "text": "sunny"], "model": "m",
                    "stopReason": "endTurn",
                ]
            }
            let saw = try fixtureSaw(reply.response)
            if reaches {
                #expect(reply.requests.map { $0["method"] } == ["sampling/createMessage"])
                #expect(reply.requests.first?["params"]?["tools"]?[0]?["name"] == "get_weather")
                #expect(saw["result"]?["content"]?["text"] == "sunny")
            } else {
                #expect(reply.requests.isEmpty, "\(reply.requests)")
                #expect(saw["error"]?["code"] == -32602)
                #expect(
                    saw["error"]?["message"]?.stringValue?.contains(#""sampling": {"tools": {}}"#) == true, "\(saw)")
            }
        }

        @Test func aFormElicitationNeverReachesAnAgentThatDeclaredOnlyURLMode() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--protocol-tools"]))], allow: ["fx__ask"])
            try shim.initialize(capabilities: #"{"elicitation":{"url":{}}}"#)
            let reply = try shim.callAnswering("fx__ask", ["method": "elicitation/create"]) { _ in
                ["action": "accept", "content": ["name": "x"]]
            }
            #expect(reply.requests.isEmpty, "\(reply.requests)")
            let saw = try fixtureSaw(reply.response)
            #expect(saw["error"]?["code"] == -32602)
            #expect(saw["error"]?["message"]?.stringValue?.contains("form-mode elicitation") == true, "\(saw)")
        }

        @Test func aFormElicitationSaysWhichServerAsks() throws {
            let shim = try ShimProcess(servers: [("crm", fixture(["--protocol-tools"]))], allow: ["crm__ask"])
            try shim.initialize(capabilities: #"{"elicitation":{}}"#)
            let reply = try shim.callAnswering("crm__ask", ["method": "elicitation/create"]) { _ in
                ["action": "decline"]
            }
            #expect(reply.requests.count == 1)
            let ask = try #require(reply.requests.first)
            #expect(ask["method"] == "elicitation/create")
            #expect(ask["params"]?["message"] == #"[server "crm" asks] Your name?"#)
            #expect(ask["params"]?["requestedSchema"]?["properties"]?["name"] != nil)
            #expect(try fixtureSaw(reply.response)["result"]?["action"] == "decline")
            let records = shim.auditRecords().filter { $0["event"] == "server.request" }
            #expect(records.map { $0["decision"] } == ["allow"])
        }
    }
}
