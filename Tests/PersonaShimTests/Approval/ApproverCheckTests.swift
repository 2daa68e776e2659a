import Glibc
import Platform
import Testing

@testable import PersonaShim

/// The approver checks: what /proc says about a process, and who may approve.
@Suite struct ApproverCheckTests {
    @Test func statLineIsReadFromTheLastParenthesis() throws {
        let line = "4242 (we) ird (name) S 17 4242 4242 34819 4242 4194304 1 2 3 4 5 6 7 8 20 0 1 0 987654 1 2\n"
        let status = try #require(OS.parseProcessStatus(ArraySlice(line.utf8)))
        #expect(status.pid == 4242)
        #expect(status.parent == 17)
        #expect(status.session == 4242)
        #expect(status.terminal == 34819)
        #expect(status.startTime == 987654)
        #expect(OS.parseProcessStatus(ArraySlice("garbage".utf8)) == nil)
        #expect(OS.parseProcessStatus(ArraySlice("12 (x) S 1 2".utf8)) == nil)
    }

    @Test func ownStatusMatchesTheSystem() throws {
        let me = try #require(OS.processStatus(getpid()))
        #expect(me.pid == getpid())
        #expect(me.parent == getppid())
        #expect(me.session == getsid(0))
        #expect(OS.processStatus(-1) == nil)
    }

    @Test func terminalNamesPseudoTerminals() {
        #expect(ApproverCheck.terminalName(136 << 8 | 3) == "/dev/pts/3")
        #expect(ApproverCheck.terminalName(137 << 8 | 2) == "/dev/pts/258")
        #expect(ApproverCheck.terminalName(4 << 8 | 1) == "tty 4:1")
    }

    /// A made-up process table: 1 ← 10 (the person's terminal shell) ← 20 (agent) ← 30 (shim), 20 ← 40 (the
    /// agent's shell tool), 10 ← 50 (a person's command); 70, an orphan the agent left on the person's terminal
    /// (its parent exited: init took it); 90 ← 71, the same under a subreaper (`systemd --user`); 80, a process
    /// that made its own session on a pseudo-terminal of its own.
    static let table: [pid_t: ProcessStatus] = [
        10: ProcessStatus(pid: 10, parent: 1, processGroup: 10, session: 10, terminal: 34816, startTime: 100),
        20: ProcessStatus(pid: 20, parent: 10, processGroup: 20, session: 10, terminal: 34816, startTime: 200),
        30: ProcessStatus(pid: 30, parent: 20, processGroup: 20, session: 10, terminal: 34816, startTime: 300),
        40: ProcessStatus(pid: 40, parent: 20, processGroup: 40, session: 10, terminal: 34816, startTime: 400),
        41: ProcessStatus(pid: 41, parent: 20, processGroup: 41, session: 41, terminal: 0, startTime: 410),
        50: ProcessStatus(pid: 50, parent: 10, processGroup: 50, session: 10, terminal: 34816, startTime: 500),
        60: ProcessStatus(pid: 60, parent: 99, processGroup: 60, session: 60, terminal: 34817, startTime: 600),
        70: ProcessStatus(pid: 70, parent: 1, processGroup: 40, session: 10, terminal: 34816, startTime: 700),
        90: ProcessStatus(pid: 90, parent: 1, processGroup: 90, session: 90, terminal: 0, startTime: 90),
        71: ProcessStatus(pid: 71, parent: 90, processGroup: 40, session: 10, terminal: 34816, startTime: 710),
        80: ProcessStatus(pid: 80, parent: 1, processGroup: 80, session: 80, terminal: 34818, startTime: 800),
    ]
    static func lookup(_ pid: pid_t) -> ProcessStatus? { table[pid] }

    var check: ApproverCheck {
        ApproverCheck(uid: 1000, guardedRoots: ApproverCheck.agentRoots(shim: 30, process: Self.lookup))
    }

    @Test func agentRootsAreTheShimItsParentAndTheSessionBelowItsLeader() {
        let roots = ApproverCheck.agentRoots(shim: 30, process: Self.lookup).map(\.pid)
        // 10 leads the session (the person's shell), so it is not the agent's.
        #expect(roots == [30, 20])
    }

    @Test func aPersonOutsideTheAgentsTreeWithATerminalMayApprove() throws {
        let approver = try check.judge(pid: 50, uid: 1000, process: Self.lookup).get()
        #expect(approver.terminal == "/dev/pts/0")
        #expect(approver.process == ProcessIdentity(pid: 50, startTime: 500))
    }

    @Test func eachCheckRefusesOnItsOwn() {
        #expect(check.judge(pid: 50, uid: 1001, process: Self.lookup) == .failure(.otherUser(1001)))
        #expect(check.judge(pid: 41, uid: 1000, process: Self.lookup) == .failure(.noTerminal))
        #expect(check.judge(pid: 40, uid: 1000, process: Self.lookup) == .failure(.insideAgent(root: 20)))
        #expect(check.judge(pid: 20, uid: 1000, process: Self.lookup) == .failure(.insideAgent(root: 20)))
        #expect(check.judge(pid: 30, uid: 1000, process: Self.lookup) == .failure(.insideAgent(root: 30)))
        // Its parent 99 is not in the table: a chain that cannot be followed is refused, not guessed.
        #expect(check.judge(pid: 60, uid: 1000, process: Self.lookup) == .failure(.unverifiable))
        #expect(check.judge(pid: 77, uid: 1000, process: Self.lookup) == .failure(.unverifiable))
        #expect(check.judge(pid: 0, uid: 1000, process: Self.lookup) == .failure(.unverifiable))
    }

    /// An agent running in a terminal shares it with its processes: one it orphans (`cmd &` in a shell that exits,
    /// a double fork) leaves the agent's tree but keeps the terminal. It no longer hangs below the shell that leads
    /// the terminal's session, which a person's command always does: refused.
    @Test func anOrphanKeepingTheTerminalIsRefused() {
        #expect(check.judge(pid: 70, uid: 1000, process: Self.lookup) == .failure(.detached(leader: 10)))
        #expect(check.judge(pid: 71, uid: 1000, process: Self.lookup) == .failure(.detached(leader: 10)))
        #expect(ApproverRefusal.detached(leader: 10).code == "detached")
        // A session leader on a terminal of its own cannot be told from a person's shell (the README says so).
        #expect((try? check.judge(pid: 80, uid: 1000, process: Self.lookup).get()) != nil)
    }

    /// The same over real processes: a `sleep` whose shell exited is adopted by init or a subreaper (this test
    /// process, when another test made it one); the shell that exited played the session's leader, as an agent's
    /// shell tool would.
    @Test func aRealOrphanIsDetached() throws {
        let child = try OwnedChild(shell: "sleep 30 & echo $!")
        defer { child.cleanup() }
        let orphan = try #require(child.readLine(from: child.child.stdout).flatMap { pid_t($0) })
        #expect(child.waitForExit() == .exited(0))
        var adopted = false
        for _ in 0..<400 where !adopted {
            adopted = OS.processStatus(orphan).map { $0.parent != child.pid } ?? false
            if !adopted { usleep(10_000) }
        }
        try #require(adopted, "the shell exited and its background sleep was adopted")
        func inThisSession(_ pid: pid_t) -> ProcessStatus? {
            guard var status = OS.processStatus(pid) else { return nil }
            status.terminal = 34816
            status.session = child.pid
            return status
        }
        let check = ApproverCheck(uid: geteuid(), guardedRoots: [])
        #expect(
            check.judge(pid: orphan, uid: geteuid(), process: inThisSession) == .failure(.detached(leader: child.pid)))
    }

    /// An agent in a terminal (20) that starts the shim through a wrapper in a new session without a terminal
    /// (`start_new_session`: 130 leads it, 131 is `npx`, 132 the shim): its shell tool (40) shares the person's
    /// terminal and session, so the agent above the new session must be found, and the person's shell (10) not.
    @Test func anAgentInATerminalIsFoundAboveTheNewSessionItStartedTheShimIn() {
        var table = Self.table
        table[130] = ProcessStatus(pid: 130, parent: 20, processGroup: 130, session: 130, terminal: 0, startTime: 1300)
        table[131] = ProcessStatus(pid: 131, parent: 130, processGroup: 130, session: 130, terminal: 0, startTime: 1310)
        table[132] = ProcessStatus(pid: 132, parent: 131, processGroup: 130, session: 130, terminal: 0, startTime: 1320)
        let roots = ApproverCheck.agentRoots(shim: 132, process: { table[$0] })
        #expect(roots.map(\.pid) == [132, 131, 130, 20])
        let check = ApproverCheck(uid: 1000, guardedRoots: roots)
        #expect(check.judge(pid: 40, uid: 1000, process: { table[$0] }) == .failure(.insideAgent(root: 20)))
        #expect((try? check.judge(pid: 50, uid: 1000, process: { table[$0] }).get()) != nil)
        // A launcher without a terminal (a daemon, an editor's extension host) adds nothing above the session.
        table[20]?.terminal = 0
        #expect(ApproverCheck.agentRoots(shim: 132, process: { table[$0] }).map(\.pid) == [132, 131])
    }

    @Test func aReusedPidIsNotTheAgent() {
        // Process 20 died and its number went to a process started later: not the agent any more.
        var table = Self.table
        table[20]?.startTime = 999
        let check = ApproverCheck(uid: 1000, guardedRoots: [ProcessIdentity(pid: 20, startTime: 200)])
        #expect((try? check.judge(pid: 40, uid: 1000, process: { table[$0] }).get()) != nil)
    }

    /// The walk over real processes: a grandchild of this process is found inside the tree rooted here, and not
    /// inside a tree rooted at a sibling. The terminal is granted in the lookup, since the test may run without one.
    @Test func ancestryWalkOverRealProcesses() throws {
        let outer = try OwnedChild(shell: "sh -c 'echo $$; sleep 30' & wait")
        let sibling = try OwnedChild(shell: "sleep 30")
        defer {
            outer.cleanup()
            sibling.cleanup()
        }
        let grandchild = try #require(outer.readLine(from: outer.child.stdout).flatMap { pid_t($0) })
        // This process plays the leader of the session: the runner's own leader need not be an ancestor.
        func withTerminal(_ pid: pid_t) -> ProcessStatus? {
            guard var status = OS.processStatus(pid) else { return nil }
            status.terminal = 34816
            status.session = getpid()
            return status
        }
        let me = try #require(OS.processStatus(getpid()))
        let outerStatus = try #require(OS.processStatus(outer.pid))
        let siblingStatus = try #require(OS.processStatus(sibling.pid))
        let fromHere = ApproverCheck(uid: geteuid(), guardedRoots: [ProcessIdentity(me)])
        #expect(
            fromHere.judge(pid: grandchild, uid: geteuid(), process: withTerminal)
                == .failure(.insideAgent(root: getpid())))
        let fromOuter = ApproverCheck(uid: geteuid(), guardedRoots: [ProcessIdentity(outerStatus)])
        #expect(
            fromOuter.judge(pid: grandchild, uid: geteuid(), process: withTerminal)
                == .failure(.insideAgent(root: outer.pid)))
        let fromSibling = ApproverCheck(uid: geteuid(), guardedRoots: [ProcessIdentity(siblingStatus)])
        #expect((try? fromSibling.judge(pid: grandchild, uid: geteuid(), process: withTerminal).get()) != nil)
        // Without the granted terminal, the real one decides: a child spawned with pipes has none.
        #expect(fromSibling.judge(pid: sibling.pid, uid: geteuid()) == .failure(.noTerminal))
    }

    /// `script` gives its command a pseudo-terminal: the real tty is seen, and named.
    @Test(.enabled(if: access("/usr/bin/script", X_OK) == 0)) func aRealPseudoTerminalIsSeen() throws {
        let child = try OwnedChild(shell: "exec /usr/bin/script -qec 'echo $$; sleep 30' /dev/null")
        defer { child.cleanup() }
        let line = try #require(child.readLine(from: child.child.stdout))
        let inner = try #require(pid_t(String(line.filter { $0.isNumber })))
        let status = try #require(OS.processStatus(inner))
        #expect(status.hasTerminal)
        let check = ApproverCheck(uid: geteuid(), guardedRoots: [])
        let approver = try check.judge(pid: inner, uid: geteuid()).get()
        #expect(approver.terminal.hasPrefix("/dev/pts/"))
        let guarded = ApproverCheck(
            uid: geteuid(), guardedRoots: [ProcessIdentity(try #require(OS.processStatus(child.pid)))])
        #expect(guarded.judge(pid: inner, uid: geteuid()) == .failure(.insideAgent(root: child.pid)))
    }
}
