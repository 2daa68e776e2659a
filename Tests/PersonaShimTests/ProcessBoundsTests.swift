import Foundation
import Testing

@testable import PersonaShim

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct RestartPolicyTests {
    static let second: UInt64 = 1_000_000_000

    /// Fails and restarts at once each time on a fake clock; returns the decisions.
    func run(_ policy: inout RestartPolicy, failures: Int, every spacing: UInt64, ready: Bool) -> [RestartPolicy
        .Decision]
    {
        var decisions: [RestartPolicy.Decision] = []
        var now: UInt64 = 1_000 * Self.second
        for _ in 0..<failures {
            let decision = policy.decide(now: now, wasReady: ready)
            decisions.append(decision)
            guard case .restart(let delay) = decision else { break }
            now += UInt64(delay * 1e9)
            policy.attempted(now: now)
            now += spacing
        }
        return decisions
    }

    @Test func aServerThatNeverStartsIsRetriedWithBackoffThenGivenUp() {
        var policy = RestartPolicy()
        let decisions = run(&policy, failures: 20, every: 0, ready: false)
        #expect(
            decisions.prefix(4) == [
                .restart(afterSeconds: 1), .restart(afterSeconds: 2), .restart(afterSeconds: 4),
                .restart(afterSeconds: 8),
            ])
        #expect(decisions.count == 5)
        #expect(decisions.last == .giveUp("failed 5 times in a row before becoming ready"))
        #expect(policy.attempts == 4)
    }

    @Test func aServerThatCrashesAfterBecomingReadyIsBoundedPerMinute() {
        var policy = RestartPolicy()
        let decisions = run(&policy, failures: 20, every: 0, ready: true)
        #expect(decisions.count == 6)
        #expect(decisions.last == .giveUp("crashed 5 times within a minute"))
    }

    @Test func crashesFarApartAreAlwaysRestartedAfterOneSecond() {
        var policy = RestartPolicy()
        let decisions = run(&policy, failures: 30, every: 120 * Self.second, ready: true)
        #expect(decisions.count == 30)
        #expect(decisions.allSatisfy { $0 == .restart(afterSeconds: 1) })
    }

    @Test func theDelayIsCapped() {
        var policy = RestartPolicy(perMinute: 100, startFailureLimit: 100)
        let decisions = run(&policy, failures: 12, every: 0, ready: false)
        #expect(decisions.last == .restart(afterSeconds: 30))
    }
}

@Suite struct SpawnFailureTests {
    /// Out of processes, memory or descriptors is worth another try (bounded by `RestartPolicy`); a wrong command
    /// is not.
    @Test func onlyResourceShortagesAreTransient() {
        for code in [EAGAIN, ENOMEM, EMFILE, ENFILE] { #expect(SpawnError(executable: "x", errno: code).isTransient) }
        for code in [ENOENT, EACCES, ENOEXEC, ENOTDIR] {
            #expect(!SpawnError(executable: "x", errno: code).isTransient)
        }
    }
}

@Suite struct NestingDepthTests {
    @Test func depthGrowsByOneForChildrenAndStopsAtTheLimit() {
        var environment: [String: String] = ["PATH": "/bin"]
        for depth in 0..<NestingDepth.limit {
            #expect(NestingDepth.current(environment) == depth)
            #expect(NestingDepth.refusal(environment) == nil)
            environment = NestingDepth.forChildren(environment)
        }
        let refusal = NestingDepth.refusal(environment)
        #expect(refusal?.contains("PERSONA_SHIM_DEPTH=4") == true)
        #expect(refusal?.contains("remove that entry") == true)
    }

    @Test(arguments: ["x", "-1", "", "99999999999999999999"])
    func aValueThatIsNotADepthIsRefused(_ value: String) {
        #expect(NestingDepth.refusal([NestingDepth.variable: value]) != nil)
    }

    @Test func aServerEntryCannotResetTheDepth() {
        let child = ChildEnvironment.build(
            parent: ["PATH": "/bin", NestingDepth.variable: "3"], declared: [NestingDepth.variable: "0"])
        #expect(child[NestingDepth.variable] == "3")
        #expect(
            ChildEnvironment.build(parent: [:], declared: [NestingDepth.variable: "0"])[NestingDepth.variable] == nil)
    }
}

@Suite struct ServerGroupsTests {
    func spawn(_ script: String) throws -> SpawnedChild {
        try ChildSpawner.spawn(
            ChildCommand(executable: "/bin/sh", arguments: ["-c", script]), environment: ["PATH": "/usr/bin:/bin"])
    }

    /// A group is forgotten once it is empty, so nothing is signalled under its number afterwards.
    @Test func anEmptyGroupIsForgottenWhenItsLeaderIsReaped() throws {
        let groups = ServerGroups(grace: 1)
        let child = try spawn("exit 3")
        groups.started(child.pid)
        #expect(groups.recorded == [child.pid])
        #expect(Reaper.wait(child.pid) == .exited(3))
        groups.leaderReaped(child.pid)
        #expect(groups.recorded.isEmpty)
        groups.signal(child.pid, SIGKILL)  // no longer ours: nothing happens
        groups.finish()
        [child.stdin, child.stdout, child.stderr].forEach(FD.close)
    }

    /// What the leader left in its group is stopped, and the group forgotten once empty.
    @Test func leftoversOfAReapedLeaderAreStopped() throws {
        let groups = ServerGroups(grace: 0.2)
        let child = try spawn("trap '' TERM; sleep 300 & echo $!; exit 0")
        groups.started(child.pid)
        var buffer = [UInt8](repeating: 0, count: 64)
        var descriptor = pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, 5000)
        let count = read(child.stdout, &buffer, 64)
        let sleeper = try #require(pid_t(String(decoding: buffer[..<max(0, count)], as: UTF8.self).filter(\.isNumber)))
        #expect(Reaper.wait(child.pid) == .exited(0))
        groups.leaderReaped(child.pid)
        #expect(groups.recorded == [child.pid], "the sleeper is still in the group")
        let deadline = Date().addingTimeInterval(5)
        while !groups.recorded.isEmpty && Date() < deadline {
            groups.tick()
            // Adopted (the test process is now a subreaper): reaped by pid, as other tests' children must stay theirs.
            _ = Reaper.poll(sleeper)
            usleep(20_000)
        }
        #expect(groups.recorded.isEmpty)
        #expect(kill(sleeper, 0) != 0)
        groups.finish()
        [child.stdin, child.stdout, child.stderr].forEach(FD.close)
    }
}
