import Foundation
import PersonaShim
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// The kill switch and hot reload, through the real binary.
    @Suite struct Operator {
        static func refusalText(_ response: JSONValue?) -> String? {
            guard response?["result"]?["isError"] == true else { return nil }
            return response?["result"]?["content"]?[0]?["text"]?.stringValue
        }

        @Test func theKillSwitchStopsAPersonaInEveryRunningShimUntilLifted() throws {
            let state = Scratch()
            let environment = ["XDG_STATE_HOME": state.path, "PERSONA_SHIM_MACHINE_KILL_DIR": state.path + "/machine"]
            func shim(_ name: String) throws -> ShimProcess {
                let shim = try ShimProcess(
                    servers: [("fx", fixture())], allow: ["fx__echo"], extra: [("persona", .string(name))],
                    environment: environment)
                try shim.initialize()
                #expect(shim.call("fx__echo", ["n": 1])?["result"]?["isError"] == nil)
                return shim
            }
            let first = try shim("support-reader")
            let second = try shim("support-reader")
            let other = try shim("other-job")
            var id = 10
            func serves(_ shim: ShimProcess) -> Bool {
                id += 1
                let response = shim.call("fx__echo", ["n": .integer(id)], id: .integer(id))
                return response?["result"] != nil && response?["result"]?["isError"] == nil
            }
            func stopped(_ shim: ShimProcess) -> String? {
                id += 1
                return Self.refusalText(shim.call("fx__echo", ["n": .integer(id)], id: .integer(id)))
            }

            let kill = try runShim(["kill", "support-reader", "--reason", "incident 42"], environment: environment)
            #expect(kill.status == .exited(0), "\(kill.stderr)")
            // Effective at once in both shims of the persona: no wait between the command and the calls.
            for shim in [first, second] {
                let text = try #require(stopped(shim))
                #expect(text.contains("an operator stopped the persona \"support-reader\" with the kill switch"))
                #expect(text.contains("incident 42"))
                #expect(text.contains("persona-shim unkill support-reader"))
            }
            #expect(serves(other))
            let status = try runShim(["kill", "--status"], environment: environment)
            #expect(status.stdout.hasPrefix("support-reader\tstopped (user)\tstopped by "), "\(status)")

            #expect(try runShim(["unkill", "support-reader"], environment: environment).status == .exited(0))
            #expect(serves(first) && serves(second))

            #expect(try runShim(["kill", "--all"], environment: environment).status == .exited(0))
            #expect(stopped(first) != nil && stopped(second) != nil && stopped(other) != nil)
            // Lists stay while stopped.
            #expect(try first.toolNames() == ["fx__echo"])
            #expect(try runShim(["unkill", "--all"], environment: environment).status == .exited(0))
            #expect(serves(first) && serves(second) && serves(other))

            for shim in [first, second] {
                let records = shim.auditRecords()
                #expect(records.filter { $0["event"] == "kill.engaged" }.map { $0["scope"] } == ["persona", "all"])
                #expect(records.filter { $0["event"] == "kill.lifted" }.map { $0["scope"] } == ["persona", "all"])
                let refused = records.filter { $0["rule"] == "kill-switch" }
                #expect(refused.count == 2)
                #expect(refused.allSatisfy { $0["decision"] == "deny" && $0["tool"] == "fx__echo" })
            }
            #expect(other.auditRecords().filter { $0["event"] == "kill.engaged" }.map { $0["scope"] } == ["all"])
        }

        @Test func theMachinesKillSwitchStopsTheShimsOfEveryUser() throws {
            let machine = Scratch()
            let folder = machine.path + "/kill"
            // Two users: each has a state folder of their own; the machine's folder is shared.
            let users = [Scratch(), Scratch()]
            let shims = try users.map { user in
                let shim = try ShimProcess(
                    servers: [("fx", fixture())], allow: ["fx__echo"],
                    environment: ["XDG_STATE_HOME": user.path, "PERSONA_SHIM_MACHINE_KILL_DIR": folder])
                try shim.initialize()
                return shim
            }
            let operatorEnvironment = [
                "XDG_STATE_HOME": machine.path + "/admin", "PERSONA_SHIM_MACHINE_KILL_DIR": folder,
            ]
            let kill = try runShim(
                ["kill", "--machine", "--all", "--reason", "breach"], environment: operatorEnvironment)
            #expect(kill.status == .exited(0), "\(kill.stderr)")
            // The folder did not exist when the shims started: each sees it within its 5-second look.
            for shim in shims {
                var text: String?
                #expect(
                    eventually(timeout: 30) {
                        text = Self.refusalText(shim.call("fx__echo", id: 2))
                        return text != nil
                    })
                #expect(text?.contains("breach") == true)
                #expect(text?.contains("persona-shim unkill --machine --all") == true)
            }
            // Now watched: lifting is seen at once.
            #expect(
                try runShim(["unkill", "--machine", "--all"], environment: operatorEnvironment).status == .exited(0))
            for shim in shims { #expect(shim.call("fx__echo", id: 3)?["result"]?["isError"] == nil) }
            let engaged = shims[0].auditRecords().first { $0["event"] == "kill.engaged" }
            #expect(engaged?["file"] == .string(folder + "/@all"))
        }

        @Test(arguments: [["kill", "--help"], ["unkill", "--help"], ["help", "kill"]])
        func killHasHelp(_ arguments: [String]) throws {
            let result = try runShim(arguments)
            #expect(result.status == .exited(0))
            #expect(result.stdout.contains("USAGE: persona-shim"))
        }

        @Test func killRefusesWhatIsNotAPersonaName() throws {
            let state = Scratch()
            for arguments in [["kill"], ["kill", "../x"], ["kill", "a", "--all"], ["unkill", ".."]] {
                let result = try runShim(arguments, environment: ["XDG_STATE_HOME": state.path])
                #expect(result.status == .exited(64), "\(arguments)")
            }
            let status = try runShim(["kill", "--status"], environment: ["XDG_STATE_HOME": state.path])
            #expect(status.stdout.hasPrefix("No persona is stopped"))
        }

        @Test func aKillSwitchThatCannotBeReadStopsThePersona() throws {
            let state = Scratch()
            let environment = ["XDG_STATE_HOME": state.path, "PERSONA_SHIM_MACHINE_KILL_DIR": state.path + "/machine"]
            let shim = try ShimProcess(servers: [("fx", fixture())], allow: ["fx__echo"], environment: environment)
            try shim.initialize()
            #expect(shim.call("fx__echo", id: 1)?["result"]?["isError"] == nil)
            // The persona's switch is a symbolic link to itself: it cannot be read (ELOOP, even for root).
            let path = state.path + "/persona-shim/kill/test-persona"
            #expect(symlink("test-persona", path) == 0)
            let refused = try #require(Self.refusalText(shim.call("fx__echo", id: 2)))
            #expect(refused.contains("could not be read"))
            #expect(refused.contains("so it counts as on"))
            #expect(try runShim(["unkill", "test-persona"], environment: environment).status == .exited(0))
            #expect(shim.call("fx__echo", id: 3)?["result"]?["isError"] == nil)
            let engaged = shim.auditRecords().first { $0["event"] == "kill.engaged" }
            #expect(engaged?["scope"] == "unreadable")
        }

        static func writeReplacing(_ path: String, _ text: String) {
            // As editors do: a new file renamed over the old one.
            let temporary = path + ".tmp"
            #expect(FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)))
            #expect(rename(temporary, path) == 0)
        }

        @Test func anEditedPersonaTakesEffectForTheNextCallAndABrokenEditIsRefused() throws {
            let version1 = personaJSON(servers: [("fx", fixture())], allow: ["fx__echo", "fx__slow"])
            let shim = try ShimProcess(persona: version1)
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo", "fx__slow"])
            // A call in flight when the persona changes finishes under the version that judged it.
            try shim.client.send(
                #"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"fx__slow","arguments":{"ms":1500}}}"#
            )
            let version2 = personaJSON(servers: [("fx", fixture())], allow: ["fx__echo", "fx__raw"])
            Self.writeReplacing(shim.personaPath, version2)
            var seen: [JSONValue] = []
            #expect(
                eventually(timeout: 30) {
                    if let message = shim.client.readMessage(timeout: 0.2) { seen.append(message) }
                    return seen.contains { $0["method"] == "notifications/tools/list_changed" }
                        && seen.contains { $0["id"] == "slow" }
                }, "seen: \(seen); stderr: \(shim.client.standardError)")
            let slow = try #require(seen.first { $0["id"] == "slow" })
            #expect(slow["result"] != nil && slow["result"]?["isError"] == nil)
            #expect(try shim.toolNames() == ["fx__echo", "fx__raw"])
            #expect(shim.call("fx__slow", ["ms": 1], id: 2)?["error"]?["code"] == -32602)
            #expect(shim.call("fx__raw", id: 3)?["result"] != nil)

            // A broken edit: logged, audited, and the version in force holds.
            Self.writeReplacing(shim.personaPath, "{\"persona\": \"test-persona\",\n  \"tools\": [}")
            #expect(
                eventually(timeout: 30) {
                    shim.auditRecords().contains { $0["event"] == "persona.reload" && $0["decision"] == "rejected" }
                })
            #expect(shim.call("fx__raw", id: 4)?["result"] != nil)
            #expect(shim.call("fx__slow", ["ms": 1], id: 5)?["error"]?["code"] == -32602)
            #expect(
                eventually(timeout: 10) {
                    shim.client.standardError.contains("the persona file changed but the new version cannot be used")
                })
            let reloads = shim.auditRecords().filter { $0["event"] == "persona.reload" }
            #expect(reloads.count == 2)
            let digest1 = "sha256:" + SHA256.hash(Array(version1.utf8)).hexString
            let digest2 = "sha256:" + SHA256.hash(Array(version2.utf8)).hexString
            #expect(reloads.first?["decision"] == "applied")
            #expect(reloads.first?["oldDigest"] == .string(digest1))
            #expect(reloads.first?["newDigest"] == .string(digest2))
            #expect(reloads.last?["oldDigest"] == .string(digest2))
            #expect(reloads.last?["reason"]?.stringValue?.contains("persona.json:2:") == true)
        }

        @Test func anEditedBaseIsReloadedAndServersComeAndGo() throws {
            let scratch = Scratch()
            _ = scratch.write(
                "base.json",
                personaJSON(servers: [("fx", fixture())], allow: ["fx__*", "gx__*"]))
            let shim = try ShimProcess(
                persona: #"{"extends": "\#(scratch.path)/base.json", "tools": {"allow": ["fx__echo", "gx__echo"]}}"#)
            try shim.initialize()
            #expect(try shim.toolNames() == ["fx__echo"])
            Self.writeReplacing(
                scratch.path + "/base.json",
                personaJSON(servers: [("gx", fixture())], allow: ["fx__*", "gx__*"]))
            #expect(
                eventually(timeout: 30) { (try? shim.toolNames()) == ["gx__echo"] },
                "stderr: \(shim.client.standardError)")
            #expect(shim.call("gx__echo", id: 2)?["result"] != nil)
            let reload = shim.auditRecords().first { $0["event"] == "persona.reload" }
            #expect(reload?["serversAdded"] == ["gx"])
            #expect(reload?["serversRemoved"] == ["fx"])
            #expect(
                eventually(timeout: 20) {
                    shim.auditRecords().contains { $0["event"] == "child.exit" && $0["server"] == "fx" }
                })
        }

        @Test func aPersonaReachedThroughASymbolicLinkIsReloadedWhenItsTargetChanges() throws {
            let real = Scratch()
            let links = Scratch()
            let target = real.write(
                "persona.json", personaJSON(servers: [("fx", fixture())], allow: ["fx__echo"]))
            #expect(symlink(target, links.path + "/persona.json") == 0)
            let client = try StdioClient(
                ChildCommand(
                    executable: Binaries.shim,
                    arguments: [
                        "run", "--persona", links.path + "/persona.json", "--audit", links.path + "/audit.jsonl",
                    ]),
                environment: ["PATH": "/usr/bin:/bin", "HOME": links.path])
            defer {
                client.closeInput()
                _ = client.waitForExit(timeout: 10)
            }
            let initialize = client.request(
                "initialize",
                params: [
                    "protocolVersion": "2025-11-25", "capabilities": [:],
                    "clientInfo": ["name": "e2e", "version": "1"],
                ],
                id: 0)
            #expect(initialize.response?["result"] != nil)
            try client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            func tools() -> [String] {
                let reply = client.request("tools/list", id: "list")
                return reply.response?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            }
            #expect(tools() == ["fx__echo"])
            Self.writeReplacing(target, personaJSON(servers: [("fx", fixture())], allow: ["fx__echo", "fx__raw"]))
            #expect(eventually(timeout: 30) { tools() == ["fx__echo", "fx__raw"] }, "\(client.standardError)")
        }
    }
}
