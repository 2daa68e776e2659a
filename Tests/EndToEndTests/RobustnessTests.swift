import Foundation
import PersonaShim
import Testing

extension EndToEnd {
    @Suite struct Robustness {
        @Test func malformedInputGetsAnErrorAndTheShimKeepsServing() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let cases: [(String, Int)] = [
                ("{not json", -32700), (#"{"jsonrpc":"2.0","id":1,"method":"x""#, -32700), ("[1,2,3]", -32600),
                (#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#, -32600),
                (#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#, -32600),
                (#"{"jsonrpc":"2.0","id":6,"method":"tools/call"}"#, -32602),
                (
                    #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"fx__echo","arguments":[1]}}"#,
                    -32602
                ),
            ]
            for (line, code) in cases {
                let reply = try JSONValue(parsing: try shim.roundTrip(line))
                #expect(reply["error"]?["code"] == .integer(code), "\(line)")
            }
            #expect(
                try shim.roundTrip(#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#)
                    == #"{"jsonrpc":"2.0","id":"p","result":{}}"#)
        }

        @Test func serverDiscoverIsAnsweredAtOnceEvenBeforeInitialize() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            let reply = try JSONValue(
                parsing: try shim.roundTrip(
                    #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#, timeout: 2))
            #expect(reply["error"]?["code"] == -32601)
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo"])
        }

        @Test(arguments: ["tasks/list", "tasks/get", "sampling/createMessage", "roots/list", "no/such/method"])
        func unhandledMethodsGetMethodNotFound(_ method: String) throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let reply = try JSONValue(
                parsing: try shim.roundTrip(#"{"jsonrpc":"2.0","id":9,"method":"\#(method)","params":{}}"#))
            #expect(reply["error"]?["code"] == -32601)
            #expect(reply["id"] == 9)
        }

        @Test func requestsBeforeInitializeAndASecondInitializeAreRefused() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            let early = try JSONValue(parsing: try shim.roundTrip(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#))
            #expect(early["error"]?["code"] == -32600)
            try shim.initialize()
            let again = shim.client.request("initialize", params: ["protocolVersion": "2025-11-25"], id: 2).response
            #expect(again?["error"]?["code"] == -32600)
        }

        @Test func oversizedLinesAreDiscardedAndServingContinues() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let huge =
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__echo","arguments":{"x":""#
                + String(repeating: "a", count: 17 * 1024 * 1024) + #""}}}"#
            try shim.client.send(Array(huge.utf8))
            let reply = try #require(shim.client.readMessage(timeout: 30))
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["error"]?["message"]?.stringValue?.contains("exceeds") == true)
            #expect(shim.call("fx__echo", ["small": 1], id: 2)?["result"] != nil)
        }

        @Test func aServerThatCrashesMidCallFailsThatCallOnly() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture()), ("ok", fixture())], allow: ["fx__crash", "fx__echo", "ok__echo"])
            try shim.initialize()
            let reply = shim.client.request("tools/call", params: ["name": "fx__crash", "arguments": [:]], id: 1)
            #expect(reply.response?["error"]?["code"] == -32000)
            #expect(reply.response?["error"]?["message"]?.stringValue?.contains("exited with code 5") == true)
            #expect(shim.call("ok__echo", ["still": "here"], id: 2)?["result"] != nil)
            #expect(shim.call("fx__echo", id: 3)?["error"]?["code"] == -32602)
            let records = shim.auditRecords()
            #expect(records.contains { $0["event"] == "child.exit" && $0["exitCode"] == 5 })
            #expect(records.contains { $0["outcome"] == "child_exited" && $0["tool"] == "fx__crash" })
        }

        @Test func brokenServersLeaveTheOthersServing() throws {
            let shim = try ShimProcess(
                servers: [
                    ("missing", ["command": "/nonexistent/server"]), ("crashes", fixture(["--crash-on-start"])),
                    ("silent", fixture(["--never-initialize"])),
                    ("garbage", fixture(["--garbage", "--stderr-chatter"])),
                    ("good", fixture()),
                ],
                allow: ["*__echo"], extra: [("timeouts", ["initializeSeconds": 1])])
            try shim.initialize()
            let started = Date()
            #expect(try shim.toolNames() == ["garbage__echo", "good__echo"])
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(shim.call("garbage__echo", ["g": 1])?["result"]?["content"]?[0]?["text"] == #"{"g":1}"#)
            let stderr = shim.client.standardError
            #expect(stderr.contains("[missing]"))
            #expect(stderr.contains("[silent] did not finish initializing within 1 seconds"))
            #expect(stderr.contains("dropped a line that is not a JSON-RPC message"))
            #expect(stderr.contains("[garbage] "))
            let failed = Set(
                shim.auditRecords().filter { $0["event"] == "child.failed" }.compactMap { $0["server"]?.stringValue })
            #expect(failed == ["missing", "crashes", "silent"])
        }

        @Test func childrenSeeOnlyTheBaseEnvironmentAndTheirOwn() throws {
            let scratch = Scratch()
            let dump = scratch.path + "/env.txt"
            let server: JSONValue = [
                "command": "/bin/sh", "args": ["-c", .string("env > \(dump); exec \(Binaries.fixture)")],
                "env": ["DECLARED": "yes"],
            ]
            let shim = try ShimProcess(
                servers: [("fx", server)], allow: ["fx__echo"],
                environment: ["SHIM_SECRET_TOKEN": "hunter2", "USER": "tester", "TERM": "xterm"])
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo"])
            let keys = Set(
                try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n").map {
                    String($0.prefix { $0 != "=" })
                })
            #expect(!keys.contains("SHIM_SECRET_TOKEN"))
            #expect(keys.isSuperset(of: ["DECLARED", "PATH", "HOME", "USER", "TERM"]))
            #expect(
                keys.subtracting([
                    "DECLARED", "PATH", "HOME", "USER", "TERM", "LOGNAME", "SHELL", "PWD", "SHLVL", "_",
                    "PERSONA_SHIM_DEPTH",
                ])
                .isEmpty, "\(keys)")
            #expect(try String(contentsOfFile: dump, encoding: .utf8).contains("PERSONA_SHIM_DEPTH=1\n"))
        }

        @Test func anUnwritableAuditFileRefusesCallsButKeepsServing() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture())], allow: ["fx__echo"], audit: "/proc/persona-shim-cannot/audit.jsonl")
            try shim.initialize()
            let reply = shim.call("fx__echo", ["x": 1])
            #expect(reply?["result"]?["isError"] == true)
            let text = reply?["result"]?["content"]?[0]?["text"]?.stringValue ?? ""
            #expect(text.contains("could not write the audit record"))
            #expect(try shim.roundTrip(#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#).contains(#""result":{}"#))
            #expect(eventually { shim.client.standardError.contains("cannot write the audit record") })
        }
    }
}

extension EndToEnd.Robustness {
    @Test func anAnswerOverTheConfiguredLimitFailsItsCallAtOnceAndServingGoesOn() throws {
        let shim = try ShimProcess(
            servers: [("fx", fixture())], allow: ["fx__blob", "fx__echo"],
            extra: [("transport", ["maxServerMessageBytes": 65536])])
        try shim.initialize()
        let start = Date()
        let big = try #require(shim.call("fx__blob", ["bytes": 200_000], id: 41))
        #expect(Date().timeIntervalSince(start) < 5, "answered at once, not at the call timeout")
        #expect(big["id"] == 41)
        #expect(big["error"]?["code"] == .integer(JSONRPCError.internalError))
        #expect(big["error"]?["message"]?.stringValue?.contains("exceeds the limit of 65536 bytes") == true)
        let small = try #require(shim.call("fx__blob", ["bytes": 1000], id: 42))
        #expect(small["result"] != nil)
        #expect(eventually { shim.client.standardError.contains("discarded a message") })
    }
}
