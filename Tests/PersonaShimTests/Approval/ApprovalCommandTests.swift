import Glibc
import Platform
import Testing

@testable import PersonaShim

/// The persona's approval command, run for real: its exit answers, the question arrives on stdin, and whatever
/// ends it, nothing of its process group is left running or unreaped.
@Suite(.serialized) struct ApprovalCommandTests {
    final class Run {
        let folder = ApprovalFolder()
        let groups = ServerGroups(grace: 1)
        var logged: [String] = []
        let approvals: OutOfBandApprovals

        init(_ command: [String], terminal: Bool = false) {
            // As in the shim: a command that exits before reading its question must not kill the writer.
            signal(SIGPIPE, SIG_IGN)
            var settings = ApprovalSettings()
            settings.command = command
            settings.terminal = terminal
            var log: (String) -> Void = { _ in }
            approvals = OutOfBandApprovals(
                settings: settings, environment: folder.environment, groups: groups,
                check: { ApproverCheck(uid: geteuid(), guardedRoots: ApproverCheck.agentRoots()) },
                log: { log($0) })
            log = { [unowned self] in self.logged.append($0) }
        }

        /// Asks and drives until one answer comes.
        func answer(_ question: ApprovalQuestion = sampleQuestion(), seconds: Double = 30) -> ApprovalAnswer? {
            approvals.ask(question, now: monotonicNow())
            var answers = approvals.takeAnswers()
            drive(approvals, seconds: seconds) {
                answers += approvals.takeAnswers()
                return !answers.isEmpty
            }
            return answers.first.map(\.answer)
        }

        deinit {
            approvals.close()
            groups.finish()
        }
    }

    /// No process of the group remains, and the leader is no zombie (it was reaped: /proc has no entry).
    func groupIsGone(_ pid: pid_t) -> Bool {
        let deadline = monotonicNow() + nanoseconds(20)
        while monotonicNow() < deadline {
            if !ProcessGroup.exists(pid) && access("/proc/\(pid)", F_OK) != 0 { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func exitZeroApprovesAndTheQuestionArrivesOnStdin() throws {
        let folder = ApprovalFolder()
        let file = folder.root + "/question.json"
        let run = Run(["/bin/sh", "-c", "cat > \(file); echo looked at it; echo to stderr >&2; exit 0"])
        let question = sampleQuestion()
        guard case .approved(let by, let how)? = run.answer(question) else {
            Issue.record("not approved")
            return
        }
        #expect(by == "command")
        #expect(how.contains("exited with code 0"))
        let bytes = try #require(Files.read(file))
        #expect(bytes.last == 10)
        #expect(ApprovalQuestion(json: try JSONValue(parsing: bytes.dropLast())) == question)
        #expect(run.logged.contains { $0.hasSuffix("stdout] looked at it") })
        #expect(run.logged.contains { $0.hasSuffix("stderr] to stderr") })
    }

    @Test func anyOtherExitRefuses() {
        let run = Run(["/bin/sh", "-c", "exit 1"])
        guard case .denied(let by, let how)? = run.answer() else {
            Issue.record("not denied")
            return
        }
        #expect(by == "command" && how.contains("exited with code 1"))
        let killed = Run(["/bin/sh", "-c", "kill -9 $$"])
        guard case .failed(_, let reason)? = killed.answer() else {
            Issue.record("a signal did not fail the question")
            return
        }
        #expect(reason.contains("SIGKILL"))
    }

    @Test func aCommandThatCannotStartFailsTheQuestionAtOnce() {
        let run = Run(["/nonexistent/approver"])
        guard case .failed(let by, let reason)? = run.answer() else {
            Issue.record("not failed")
            return
        }
        #expect(by == "shim")
        #expect(reason.contains("/nonexistent/approver") && reason.contains("No such file"))
    }

    @Test func aHangingCommandTimesOutAndItsWholeGroupIsKilledAndReaped() throws {
        let folder = ApprovalFolder()
        let pids = folder.root + "/pids"
        // A grandchild in the same group too, which must not survive its leader.
        let run = Run(["/bin/sh", "-c", "sleep 300 & echo $$ $! > \(pids); wait"])
        var question = sampleQuestion(timeout: 1)
        question.timeoutSeconds = 1
        #expect(run.answer(question) == .timedOut)
        let text = String(decoding: try #require(Files.read(pids)), as: UTF8.self)
        let numbers = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
        #expect(numbers.count == 2)
        // Killing is immediate; collecting the leader's exit, and stopping what is left of its group, follow as the
        // loop goes on (here, and in the shell, on SIGCHLD and the groups' timer).
        drive(run.approvals, seconds: 10) {
            // The grandchild, orphaned, may have been reparented here (another test makes this process a
            // subreaper). Reaped by pid: reaping any exited child would take other tests' processes' exits.
            var status: Int32 = 0
            _ = waitpid(numbers[1], &status, WNOHANG)
            _ = run.groups.tick()
            return numbers.allSatisfy { access("/proc/\($0)", F_OK) != 0 }
        }
        #expect(numbers.allSatisfy { access("/proc/\($0)", F_OK) != 0 })
        #expect(groupIsGone(numbers[0]))
        #expect(run.approvals.commandPIDs.isEmpty)
    }

    @Test func withdrawingKillsTheRunningCommand() throws {
        let folder = ApprovalFolder()
        let pidFile = folder.root + "/pid"
        let run = Run(["/bin/sh", "-c", "echo $$ > \(pidFile); exec sleep 300"])
        let question = sampleQuestion()
        run.approvals.ask(question, now: monotonicNow())
        drive(run.approvals, seconds: 10) { Files.read(pidFile).map { $0.last == 10 } ?? false }
        let written = try #require(Files.read(pidFile))
        let pid = try #require(pid_t(String(decoding: written.dropLast(), as: UTF8.self)))
        run.approvals.withdraw(question.id)
        drive(run.approvals, seconds: 10) { access("/proc/\(pid)", F_OK) != 0 }
        #expect(groupIsGone(pid))
        #expect(run.approvals.takeAnswers().isEmpty)
    }

    @Test func noChannelAtAllFailsWithASentence() {
        let folder = ApprovalFolder()
        var settings = ApprovalSettings()
        settings.terminal = false
        let approvals = OutOfBandApprovals(
            settings: settings, environment: folder.environment, groups: ServerGroups(),
            check: { ApproverCheck(uid: geteuid(), guardedRoots: []) }, log: { _ in })
        let question = sampleQuestion()
        approvals.ask(question, now: monotonicNow())
        let answers = approvals.takeAnswers()
        #expect(answers.count == 1)
        guard case .failed(_, let reason)? = answers.first?.answer else {
            Issue.record("no failure")
            return
        }
        #expect(reason.contains("no out-of-band approval channel"))
    }

    /// Command and terminal together: the first answer settles the question; the other channel stops asking.
    @Test func theFirstChannelToAnswerWins() throws {
        let run = Run(["/bin/sh", "-c", "exit 3"], terminal: true)
        let question = sampleQuestion()
        #expect(run.answer(question) != nil)
        let path = try #require(run.approvals.rendezvousPath)
        #expect(run.approvals.rendezvous?.pendingCount == 0)
        run.approvals.close()
        #expect(access(path, F_OK) != 0)
    }

    /// A command that cannot start does not refuse the call while the terminal can still be asked: it is logged.
    @Test func aBrokenCommandLeavesTheTerminalAsking() {
        let run = Run(["/nonexistent/approver"], terminal: true)
        let question = sampleQuestion()
        run.approvals.ask(question, now: monotonicNow())
        #expect(run.approvals.takeAnswers().isEmpty)
        #expect(run.approvals.rendezvous?.pendingCount == 1)
        #expect(run.logged.contains { $0.contains("could not be started") && $0.contains("approval.command") })
        run.approvals.withdraw(question.id)
        #expect(run.approvals.rendezvous?.pendingCount == 0)
    }
}
