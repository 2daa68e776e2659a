import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// No process the shim started outlives it, however it ends, and it never signals a process that is not its own.
    @Suite struct ProcessHardening {
        /// The shim under `persona-fixture reap`, a stand-in for init: orphans are reparented to it and reaped at
        /// once, so a process still in /proc is truly left over, and it exits once no descendant is left.
        final class ReapedShim {
            let scratch = Scratch()
            let client: StdioClient
            let shimPID: pid_t

            init(servers: [(String, JSONValue)], allow: [String]) throws {
                let persona = scratch.write("persona.json", personaJSON(servers: servers, allow: allow))
                let pidFile = scratch.path + "/shim.pid"
                client = try StdioClient(
                    ChildCommand(
                        executable: Binaries.fixture,
                        arguments: [
                            "reap", pidFile, Binaries.shim, "run", "--persona", persona, "--audit",
                            scratch.path + "/audit.jsonl",
                        ]),
                    environment: ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path])
                shimPID = try #require(readPID(pidFile))
            }

            deinit {
                for pid in descendants(of: client.pid) { kill(pid, SIGKILL) }
                client.closeInput()
                _ = client.waitForExit(timeout: 10)
            }

            func initialize() throws {
                let reply = client.request(
                    "initialize",
                    params: [
                        "protocolVersion": "2025-11-25", "capabilities": [:],
                        "clientInfo": ["name": "e2e-agent", "version": "9.9"],
                    ], id: 0)
                _ = try #require(reply.response?["result"], "stderr: \(client.standardError)")
                try client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            }
        }

        /// A server that ignores EOF and SIGTERM and leaves a grandchild in its group, and one started through `sh`
        /// that leaves a `sleep` behind: SIGKILL the shim, and within 5 s none of them may remain.
        @Test func killingTheShimWithSIGKILLLeavesNoProcessBehind() throws {
            let scratch = Scratch()
            let stubborn = fixture([
                "--ignore-sigterm", "--ignore-eof", "--pidfile", scratch.path + "/stubborn.pid", "--spawn-grandchild",
                scratch.path + "/grandchild.pid",
            ])
            let wrapped: JSONValue = [
                "command": "/bin/sh",
                "args": [
                    "-c",
                    .string("sleep 300 & echo $! > \(scratch.path)/sleep.pid; exec \(Binaries.fixture) --ignore-eof"),
                ],
            ]
            let shim = try ReapedShim(
                servers: [("stubborn", stubborn), ("wrapped", wrapped)], allow: ["stubborn__echo", "wrapped__echo"])
            try shim.initialize()
            let named = try ["stubborn", "grandchild", "sleep"].map {
                try #require(readPID(scratch.path + "/\($0).pid"))
            }
            let started = descendants(of: shim.shimPID)
            #expect(Set(named).isSubset(of: Set(started)))
            #expect(started.count >= 5, "two servers, two grandchildren and the guardian: \(started)")

            #expect(kill(shim.shimPID, SIGKILL) == 0)
            let gone = eventually(timeout: 5) { !started.contains(where: isListed) }
            #expect(gone, "left over: \(started.filter(isListed).map(describe))")
            #expect(shim.client.waitForExit(timeout: 1) != nil, "the stand-in init still has descendants")
        }

        /// After a crash and restart, the crashed server's grandchildren are stopped, not left to outlive the shim.
        @Test func aCrashedServersGroupIsStopped() throws {
            let scratch = Scratch()
            let server = fixture(["--spawn-grandchild", scratch.path + "/grandchild.pid"])
            let shim = try ShimProcess(servers: [("fx", server)], allow: ["fx__crash", "fx__echo"])
            try shim.initialize()
            let grandchild = try #require(readPID(scratch.path + "/grandchild.pid"))
            try? FileManager.default.removeItem(atPath: scratch.path + "/grandchild.pid")
            #expect(shim.call("fx__crash", id: 1)?["error"] != nil)
            #expect(eventually(timeout: 5) { !processIsAlive(grandchild) }, "the crashed server's grandchild remains")
            // The restarted server works, with a grandchild of its own.
            let second = try #require(readPID(scratch.path + "/grandchild.pid"))
            #expect(eventually(timeout: 10) { shim.call("fx__echo", id: 2, timeout: 2)?["result"] != nil })
            #expect(processIsAlive(second))
            let started = descendants(of: shim.client.pid)
            #expect(started.count >= 3, "the server, its grandchild and the guardian: \(started)")
            #expect(shim.finish() == .exited(0))
            // Reaped, not only dead: the guardian too is gone once the shim has exited normally.
            #expect(eventually(timeout: 5) { !started.contains(where: isListed) }, "\(started.map(describe))")
        }

        /// A server that never finished `initialize` was stopped and reaped; its pid is then handed (through
        /// `ns_last_pid`, in a fresh PID namespace) to an unrelated process that leads its own group. Shutting down
        /// must not signal that group.
        @Test func aDeadServersReusedPidIsNotSignalledAtShutdown() throws {
            let scratch = Scratch()
            let client = try StdioClient(
                ChildCommand(
                    executable: "/usr/bin/timeout",
                    arguments: [
                        "--signal=KILL", "60", "/usr/bin/unshare", "--pid", "--fork", "--kill-child", "/bin/sh", "-c",
                        Self.pidReuseScript, "sh", Binaries.shim, scratch.path,
                    ]),
                environment: ["PATH": "/usr/bin:/bin"])
            client.closeInput()
            let verdict = client.readLine(timeout: 30).map { String(decoding: $0, as: UTF8.self) } ?? "no verdict"
            #expect(client.waitForExit(timeout: 30) == .exited(0))
            if verdict.hasPrefix("SKIP") { return }  // the namespace handed out another pid: nothing to judge
            #expect(verdict.hasPrefix("SPARED"), "\(verdict); \(client.standardError)")
        }

        /// Runs as PID 1 of its namespace with the shim binary and a scratch folder; prints SPARED, KILLED or SKIP.
        static let pidReuseScript = #"""
            SHIM=$1; D=$2
            cat > $D/persona.json <<JSON
            {"persona":"t","purpose":"x","owner":"a@b.c","reviewBy":"2099-01-01","servers":{"mute":{"command":"/bin/sh","args":["-c","echo \$\$ > $D/server.pid; exec sleep 1000"]}},"tools":{"allow":["*"]},"timeouts":{"initializeSeconds":1}}
            JSON
            mkfifo $D/go
            INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"a","version":"1"}}}'
            { printf '%s\n' "$INIT"; read x < $D/go; } | $SHIM run --persona $D/persona.json --audit $D/audit.jsonl > $D/out 2> $D/err &
            SHIMPID=$!
            while [ ! -s $D/server.pid ]; do sleep 0.05; done
            N=$(cat $D/server.pid)
            while kill -0 $N 2>/dev/null; do sleep 0.05; done
            sleep 0.3
            echo $((N - 1)) > /proc/sys/kernel/ns_last_pid
            setsid sleep 100 &
            VICTIM=$!
            if [ "$VICTIM" != "$N" ]; then echo "SKIP: victim got pid $VICTIM, not $N"; exit 0; fi
            echo go > $D/go
            wait $SHIMPID
            if kill -0 $VICTIM 2>/dev/null; then echo "SPARED $N"; else echo "KILLED $N"; fi
            """#
    }
}

/// Whether `pid` is in /proc at all: a zombie counts, it has not been reaped.
func isListed(_ pid: pid_t) -> Bool { FileManager.default.fileExists(atPath: "/proc/\(pid)/stat") }

func describe(_ pid: pid_t) -> String {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "gone"
    return "\(pid): \(stat.prefix(80))"
}

/// Every process below `root`, by parent links in /proc.
func descendants(of root: pid_t) -> [pid_t] {
    var parents: [pid_t: pid_t] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = pid_t(entry),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2,
            let parent = pid_t(fields[1])
        else { continue }
        parents[pid] = parent
    }
    var found: [pid_t] = []
    var frontier = [root]
    while let next = frontier.popLast() {
        let children = parents.filter { $0.value == next }.map(\.key)
        found += children
        frontier += children
    }
    return found
}
