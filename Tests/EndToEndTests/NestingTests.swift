import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// A persona whose servers start persona-shim with the same persona is a fork bomb without bounds.
    ///
    /// Safe when the code regresses: the shim runs in its own PID namespace (`unshare --pid --fork --kill-child`),
    /// killed whole if the processes below it ever exceed a bound, and by `timeout` after two minutes in any case.
    @Suite struct Nesting {
        static let processBound = 80

        @Test func aPersonaThatStartsItselfStopsAtTheDepthLimit() throws {
            let scratch = Scratch()
            let personaPath = scratch.path + "/persona.json"
            let me: JSONValue = [
                "command": .string(Binaries.shim),
                "args": ["run", "--persona", .string(personaPath), "--audit", .string(scratch.path + "/inner.jsonl")],
            ]
            // Two entries: without a bound the tree would double at every level.
            _ = scratch.write(
                "persona.json",
                personaJSON(
                    servers: [("a", me), ("b", me)], allow: ["*"],
                    extra: [("timeouts", ["initializeSeconds": 10])]))
            let client = try StdioClient(
                ChildCommand(
                    executable: "/usr/bin/timeout",
                    arguments: [
                        "--signal=KILL", "120", "/usr/bin/unshare", "--pid", "--fork", "--kill-child", Binaries.shim,
                        "run", "--persona", personaPath, "--audit", scratch.path + "/top.jsonl",
                    ]),
                environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path])
            var most = 0
            /// The watchdog: kills the namespace (through unshare, its init's parent) past the bound.
            func watch(for seconds: Double) -> Bool {
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline {
                    let below = descendants(of: client.pid)
                    most = max(most, below.count)
                    if below.count > Self.processBound {
                        for pid in below { kill(pid, SIGKILL) }
                        return false
                    }
                    usleep(20_000)
                }
                return true
            }
            try client.send(
                #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}"#
            )
            #expect(watch(for: 6), "more than \(Self.processBound) processes: the nesting is not bounded")
            let reply = client.readMessage(timeout: 10)
            #expect(reply?["result"]?["serverInfo"] != nil)
            #expect(watch(for: 1))
            let errors = client.standardError
            #expect(errors.contains("refusing to start"))
            #expect(errors.contains("(PERSONA_SHIM_DEPTH=4, the limit is 4)"))
            #expect(!errors.contains("PERSONA_SHIM_DEPTH=5"))
            // 15 shims at depths 0 to 3, a guardian each, and the refused ones at depth 4 coming and going.
            #expect(most <= 50, "at most \(most) processes")
            client.closeInput()
            #expect(client.waitForExit(timeout: 30) == .exited(0))
            #expect(descendants(of: client.pid).isEmpty)
        }
    }
}
