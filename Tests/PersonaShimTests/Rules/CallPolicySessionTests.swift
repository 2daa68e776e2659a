import Testing

@testable import PersonaShim

@Suite struct CallPolicySessionTests {
    let paths = PathResolver(
        fileSystem: FakeFileSystem(entries: ["/srv": .directory, "/srv/app": .directory]), home: "/home/me",
        workingDirectory: "/srv/app")
    let wall = Instant(secondsSince1970: 1_800_000_000)

    func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(seconds * 1e9)) }

    func facts(_ arguments: JSONValue) -> CallFacts {
        var hasher = SHA256()
        var bytes: [UInt8] = []
        JSONWriter.append(arguments, to: &bytes, canonical: true)
        bytes.withUnsafeBytes { hasher.update($0) }
        return CallFacts(arguments: arguments, argumentsDigest: hasher.finalizeDigest(), paths: paths)
    }

    func policy() throws -> CallPolicy {
        var policy = CallPolicy()
        policy.rules = ArgumentRuleSet([
            ArgumentRule(
                id: "project", tools: [Glob("fs__*")], kind: .require,
                conditions: [
                    ArgumentCondition(
                        try JSONPointer("path"),
                        [.paths(try PathScope(under: ["/srv/app"], notUnder: [], resolver: paths))])
                ]),
            ArgumentRule(id: "strict", tools: [Glob("fs__*")], kind: .strictArguments, conditions: []),
        ])
        policy.limits = [CallLimit(id: "ten", scope: .persona, calls: 10, per: RuleInterval("1m"))]
        policy.behaviour = BehaviourPolicy(failures: 3)
        policy.flows = FlowPolicy(
            toolLabels: [(Glob("fs__*"), ["private-data"]), (Glob("web__post"), ["egress"])])
        return policy
    }

    let schema: JSONValue = ["type": "object", "properties": ["path": ["type": "string"]]]

    @Test func aPersonaWithoutRulesIsEmpty() {
        #expect(CallPolicySession(policy: CallPolicy()).isEmpty)
        let tool = CallPolicySession(policy: CallPolicy()).toolPolicy(tool: "a__b", server: "a")
        #expect(!tool.readsArguments && tool.limitIndexes.isEmpty && tool.labels.isEmpty)
    }

    @Test func pipelinedCallsThroughTheSession() throws {
        var session = CallPolicySession(policy: try policy())
        let read = session.toolPolicy(tool: "fs__read", server: "fs", inputSchema: schema)
        var allowed = 0
        for index in 0..<200 {
            let judgement = session.judge(
                facts(["path": .string("file\(index).txt")]), tool: read, now: at(1), wallClock: wall)
            if judgement.decision == .allow { allowed += 1 }
        }
        #expect(allowed == 10)
        let refused = session.judge(facts(["path": "x"]), tool: read, now: at(2), wallClock: wall)
        #expect(refused.decision.rule == "limits.ten")
        #expect(refused.retryAt == at(61))
    }

    @Test func deniedCallsAreNotCountedAndNotSentCallsAreGivenBack() throws {
        var session = CallPolicySession(policy: try policy())
        let read = session.toolPolicy(tool: "fs__read", server: "fs", inputSchema: schema)
        for _ in 0..<20 {
            let outside = session.judge(facts(["path": "/etc/passwd"]), tool: read, now: at(1), wallClock: wall)
            #expect(outside.decision.rule == "project")
            #expect(outside.reservation == nil)
            let extra = session.judge(facts(["path": "a", "mode": "w"]), tool: read, now: at(1), wallClock: wall)
            #expect(extra.decision.rule == "strict")
            #expect(extra.decision.reason?.contains("\"mode\"") == true)
        }
        for _ in 0..<20 {
            let judgement = session.judge(facts(["path": "a"]), tool: read, now: at(2), wallClock: wall)
            #expect(judgement.decision == .allow)
            session.notSent(judgement)
        }
    }

    @Test func taintThenEgress() throws {
        var session = CallPolicySession(policy: try policy())
        let read = session.toolPolicy(tool: "fs__read", server: "fs", inputSchema: schema)
        let post = session.toolPolicy(tool: "web__post", server: "web")
        #expect(session.judge(facts([:]), tool: post, now: at(1), wallClock: wall).decision == .allow)
        let judgement = session.judge(facts(["path": "notes.txt"]), tool: read, now: at(2), wallClock: wall)
        #expect(judgement.decision == .allow)
        session.sent(read)
        #expect(session.taint == ["private-data:fs__read"])
        let refused = session.judge(facts([:]), tool: post, now: at(3), wallClock: wall)
        #expect(refused.decision.rule == "flows.untrusted-or-private-to-egress")
    }

    @Test func failuresInARowEndTheSession() throws {
        var session = CallPolicySession(policy: try policy())
        let read = session.toolPolicy(tool: "fs__read", server: "fs", inputSchema: schema)
        var drift: DriftEvent?
        for index in 0..<4 {
            let judgement = session.judge(
                facts(["path": .string("guess\(index).txt")]), tool: read, now: at(Double(index)), wallClock: wall)
            #expect(judgement.decision == .allow)
            session.sent(read)
            drift = session.answered(failed: true, now: at(Double(index)))
        }
        #expect(drift?.kind == "failures")
        let after = session.judge(facts(["path": "README"]), tool: read, now: at(10), wallClock: wall)
        #expect(after.decision.rule == "behaviour.failures")
        #expect(after.reservation == nil)
    }
}
