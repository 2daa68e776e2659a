import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// Inputs crafted to slip past the persona or to exhaust the shim.
    @Suite struct HostileInput {
        @Test func aRepeatedNameKeyIsRefusedNotForwarded() throws {
            // The fixture reads the last "name"; the shim must not judge the first and forward both.
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.initialize()
            let line = try shim.roundTrip(
                #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__echo","name":"crash","arguments":{}}}"#
            )
            let reply = try JSONValue(parsing: line)
            #expect(reply["error"]?["code"] == -32602)
            #expect(reply["error"]?["message"]?.stringValue?.contains("appears twice") == true)
            let nested = try JSONValue(
                parsing: try shim.roundTrip(
                    #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fx__echo","arguments":{"a":1,"a":2}}}"#
                ))
            #expect(nested["error"]?["code"] == -32602)
            let topLevel = try JSONValue(
                parsing: try shim.roundTrip(
                    #"{"jsonrpc":"2.0","id":3,"id":4,"method":"ping"}"#))
            #expect(topLevel["error"]?["code"] == -32600)
            // The same key written another way, twice inside _meta, or an unknown key twice: all refused.
            for (id, params) in [
                (6, #"{"name":"fx__echo","na\u006de":"crash","arguments":{}}"#),
                (7, #"{"name":"fx__echo","arguments":{},"_meta":{"progressToken":1,"progressToken":2}}"#),
                (8, #"{"name":"fx__echo","arguments":{},"x":1,"x":2}"#),
            ] {
                let reply = try JSONValue(
                    parsing: try shim.roundTrip(
                        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":\#(params)}"#))
                #expect(reply["error"]?["code"] == -32602, "\(params)")
            }
            #expect(shim.call("fx__echo", ["alive": true], id: 5)?["result"] != nil)
            // Only the last, well-formed call was decided: the refused ones never reached the policy or the server.
            #expect(shim.auditRecords().filter { $0["event"] == "call.decision" }.count == 1)
        }

        @Test func aServerListingANameTwiceGetsNoAlias() throws {
            let shim = try ShimProcess(
                servers: [("fx", fixture(["--tool-name", "crash", "--tool-name", "crash"]))], allow: ["fx__*"],
                deny: ["fx__crash"])
            try shim.initialize()
            let names = try shim.toolNames()
            #expect(!names.contains { $0.hasPrefix("fx__crash") }, "\(names)")
        }

        @Test func aDenyForThePlainNameAlsoCoversAHashedCollisionName() throws {
            let shim = try ShimProcess(
                servers: [("a.b", fixture()), ("a_b", fixture())], allow: ["*"], deny: ["a_b__echo"])
            try shim.initialize()
            let names = try shim.toolNames()
            #expect(!names.contains { $0.hasPrefix("a_b__echo") }, "\(names)")
            #expect(names.contains("a_b__raw"))
            #expect(names.contains { $0.hasPrefix("a_b__raw_") })
        }

        @Test func aNullIdIsAnInvalidRequest() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            let reply = try JSONValue(parsing: try shim.roundTrip(#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#))
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["id"] == .null)
        }

        @Test func aLastLineWithoutNewlineIsStillAnswered() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"])
            try shim.client.send(Array(#"{"jsonrpc":"2.0","id":"last","method":"ping"}"#.utf8), newline: false)
            shim.client.closeInput()
            let reply = try #require(shim.client.readMessage(timeout: 10))
            #expect(reply["id"] == "last")
            #expect(reply["result"] == [:])
        }

        @Test func anAgentThatStopsReadingCannotGrowTheShimsMemory() throws {
            let shim = try ShimProcess(servers: [("fx", fixture(["--tools", "2000"]))], allow: ["fx__*"])
            try shim.initialize()
            #expect(try shim.toolNames().count == 2008)
            // Each answer is about 1.5 MB; without backpressure 40,000 of them would need 60 GB.
            var sent = 0
            let deadline = Date().addingTimeInterval(3)
            while sent < 40000 && Date() < deadline {
                guard shim.client.send(#"{"jsonrpc":"2.0","id":\#(sent),"method":"tools/list"}"#, timeout: 0.5) else {
                    break
                }
                sent += 1
            }
            let status = try String(contentsOfFile: "/proc/\(shim.client.pid)/status", encoding: .utf8)
            let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            let kilobytes = Int(peak?.split(separator: " ").dropFirst().first ?? "") ?? .max
            #expect(kilobytes < 400 * 1024, "shim peak RSS \(kilobytes) kB after \(sent) unread requests")
            #expect(sent < 40000, "the shim should have stopped reading its input")
        }

        @Test func aParentThatNeverReadsStderrDoesNotStallTheShim() throws {
            let scratch = Scratch()
            let persona = scratch.write(
                "p.json", personaJSON(servers: [("fx", fixture(["--stderr-chatter"]))], allow: ["fx__echo"]))
            let client = try StdioClient(
                ChildCommand(
                    executable: Binaries.shim,
                    arguments: ["--persona", persona, "--audit", scratch.path + "/a.jsonl"]),
                environment: ["PATH": "/usr/bin:/bin", "PERSONA_SHIM_LOG": "debug"], drainStandardError: false)
            _ = client.request(
                "initialize",
                params: [
                    "protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"],
                ],
                id: 0)
            var answered = 0
            for index in 1...3000 {
                let reply = client.request(
                    "tools/call", params: ["name": "fx__echo", "arguments": ["i": .integer(index)]],
                    id: .integer(index),
                    timeout: 5)
                if reply.response?["result"] != nil { answered += 1 } else { break }
            }
            #expect(answered == 3000)
            client.closeInput()
            #expect(client.waitForExit(timeout: 15) == .exited(0))
        }

        @Test func checkRejectsDuplicateKeysInAPersona() throws {
            let scratch = Scratch()
            let path = scratch.write(
                "dup.json",
                "{\"persona\":\"p\",\"purpose\":\"p\",\"owner\":\"o\",\"servers\":{},\n\"tools\":{\"deny\":[],\"deny\":[\"x\"]}}"
            )
            let result = try runShim(["check", path])
            #expect(result.status == .exited(1))
            #expect(
                result.stderr.contains(#"\#(path):2:20: error: the persona is not valid JSON: duplicate key "deny""#),
                "\(result.stderr)")
        }
    }
}
