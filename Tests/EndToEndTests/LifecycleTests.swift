import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    @Suite struct Lifecycle {
        /// Starts a shim over two fixtures that each leave a grandchild (as `npx`/`uvx` wrappers do).
        func startFamily(_ scratch: Scratch, extraOptions: [String] = []) throws -> (ShimProcess, [pid_t]) {
            let servers: [(String, JSONValue)] = ["a", "b"].map { name in
                (
                    name,
                    fixture(
                        [
                            "--pidfile", "\(scratch.path)/\(name).pid", "--spawn-grandchild",
                            "\(scratch.path)/\(name).grand",
                        ]
                            + extraOptions)
                )
            }
            let shim = try ShimProcess(servers: servers, allow: ["*__echo"])
            try shim.initialize()
            #expect(try shim.toolNames() == ["a__echo", "b__echo"])
            var pids: [pid_t] = []
            for name in ["a", "b"] {
                pids.append(try #require(readPID("\(scratch.path)/\(name).pid")))
                pids.append(try #require(readPID("\(scratch.path)/\(name).grand")))
            }
            #expect(pids.allSatisfy(processIsAlive))
            return (shim, pids)
        }

        @Test func endOfInputStopsEveryProcessIncludingGrandchildren() throws {
            let scratch = Scratch()
            let (shim, pids) = try startFamily(scratch)
            #expect(shim.finish() == .exited(0))
            #expect(
                eventually { pids.allSatisfy { !processIsAlive($0) } }, "left behind: \(pids.filter(processIsAlive))")
            let events = shim.auditRecords().map { $0["event"]?.stringValue ?? "" }
            #expect(events.last == "session.end")
            #expect(events.filter { $0 == "child.exit" }.count == 2)
        }

        @Test(arguments: [SIGTERM, SIGINT])
        func signalsStopEveryProcess(_ signal: Int32) throws {
            let scratch = Scratch()
            let (shim, pids) = try startFamily(scratch)
            kill(shim.client.pid, signal)
            #expect(shim.client.waitForExit(timeout: 15) == .exited(0))
            #expect(
                eventually { pids.allSatisfy { !processIsAlive($0) } }, "left behind: \(pids.filter(processIsAlive))")
        }

        @Test func aServerIgnoringSIGTERMIsKilled() throws {
            let scratch = Scratch()
            let (shim, pids) = try startFamily(scratch, extraOptions: ["--ignore-sigterm"])
            kill(shim.client.pid, SIGTERM)
            #expect(shim.client.waitForExit(timeout: 20) == .exited(0))
            #expect(
                eventually { pids.allSatisfy { !processIsAlive($0) } }, "left behind: \(pids.filter(processIsAlive))")
        }

        @Test func aVanishedAgentDoesNotLeaveProcessesBehind() throws {
            let scratch = Scratch()
            let (shim, pids) = try startFamily(scratch)
            // The agent dies: the shim's stdout has no reader and its stdin ends.
            shim.client.closeOutput()
            shim.client.closeInput()
            #expect(shim.client.waitForExit(timeout: 15) == .exited(0))
            #expect(eventually { pids.allSatisfy { !processIsAlive($0) } })
        }

        @Test func pendingCallsAreAnsweredWhenTheAgentClosesInput() throws {
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__slow"])
            try shim.initialize()
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"fx__slow","arguments":{"ms":300}}}"#)
            shim.client.closeInput()
            let reply = try #require(shim.client.readMessage(timeout: 10))
            #expect(reply["id"] == 42)
            #expect(reply["result"] != nil)
            #expect(shim.client.waitForExit(timeout: 10) == .exited(0))
        }
    }
}
