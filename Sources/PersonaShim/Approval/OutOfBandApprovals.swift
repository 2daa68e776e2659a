import Platform

/// The shell's out-of-band channels for one session: the persona's approval command and the terminal
/// rendezvous, both asked at once; the first answer settles a question, and whatever else was asking is stopped.
///
/// Nothing here blocks or owns a thread: the shell polls `pollRequests`, calls `handle` for ready descriptors,
/// `reap` on SIGCHLD and `tick` at `nextDeadline`, and hands `takeAnswers` to the core. A persona that never asks
/// costs nothing: no socket exists until the first question.
final class OutOfBandApprovals {
    /// Read per question: a persona reload replaces them for the questions that follow.
    var settings: ApprovalSettings
    private let environment: [String: String]
    private let groups: ServerGroups
    private let log: (String) -> Void
    private let check: () -> ApproverCheck
    private var runs: [String: ApprovalCommandRun] = [:]
    /// Killed runs not yet reaped: kept until the kernel gives up their exit, so none is left a zombie.
    private var finishing: [ApprovalCommandRun] = []
    /// When killed commands are looked at again, in case their exit came before anything reported it.
    private var finishingCheck: UInt64?
    private(set) var rendezvous: ApprovalRendezvous?
    private var rendezvousFailure: String?
    private var asked: Set<String> = []
    private var answers: [(id: String, answer: ApprovalAnswer)] = []

    init(
        settings: ApprovalSettings, environment: [String: String], groups: ServerGroups,
        check: @escaping () -> ApproverCheck, log: @escaping (String) -> Void
    ) {
        self.settings = settings
        self.environment = environment
        self.groups = groups
        self.check = check
        self.log = log
    }

    /// The pids of approval commands not yet reaped (the shell's orphan reaping must leave them alone).
    var commandPIDs: [pid_t] { (runs.values.map { $0 } + finishing).filter(\.isRunning).map(\.pid) }

    var rendezvousPath: String? { rendezvous?.path }

    // MARK: Questions

    func ask(_ question: ApprovalQuestion, now: UInt64) {
        var reasons: [String] = []
        var asking = false
        asked.insert(question.id)
        if let argv = settings.command {
            switch ApprovalCommandRun.start(
                question, argv: argv, environment: environment, groups: groups, now: now, log: log)
            {
            case .success(let run):
                runs[question.id] = run
                asking = true
            case .failure(let error):
                reasons.append(error.description)
            }
        }
        if settings.terminal {
            if let rendezvous = openRendezvous() {
                rendezvous.publish(question)
                asking = true
                log(
                    "call \(question.tool) needs approval: run `persona-shim approve \(question.id)` (or `deny`) from a terminal"
                )
            } else if let rendezvousFailure {
                reasons.append(rendezvousFailure)
            }
        }
        guard asking else {
            let reason =
                reasons.isEmpty
                ? "the persona configures no out-of-band approval channel (approval.command or approval.terminal)"
                : reasons.joined(separator: "; ")
            return settle(question.id, .failed(by: "shim", reason: reason))
        }
        // One channel failed, another asks: the person can still answer, and the log says what went wrong.
        for reason in reasons { log("approval \(question.id): \(reason)") }
    }

    /// The core no longer waits for this answer: every channel stops asking.
    func withdraw(_ id: String) {
        asked.remove(id)
        rendezvous?.withdraw(id)
        if let run = runs.removeValue(forKey: id) { stop(run) }
    }

    func takeAnswers() -> [(id: String, answer: ApprovalAnswer)] {
        if let rendezvous {
            for (id, answer) in rendezvous.takeAnswers() { settle(id, answer) }
        }
        defer { answers = [] }
        return answers
    }

    func takeRefusals() -> [ApprovalRendezvous.RefusedAttempt] { rendezvous?.takeRefusals() ?? [] }

    private func settle(_ id: String, _ answer: ApprovalAnswer) {
        guard asked.remove(id) != nil else { return }
        answers.append((id, answer))
        rendezvous?.withdraw(id)
        if let run = runs.removeValue(forKey: id) { stop(run) }
    }

    private func stop(_ run: ApprovalCommandRun) {
        run.kill()
        run.reap()
        if run.isRunning {
            finishing.append(run)
            finishingCheck = finishingCheck ?? monotonicNow() + Self.finishingInterval
        }
    }

    private func openRendezvous() -> ApprovalRendezvous? {
        if let rendezvous { return rendezvous }
        guard rendezvousFailure == nil else { return nil }
        switch ApprovalRendezvous.open(directory: ApprovalDirectory.path(environment: environment), check: check()) {
        case .success(let opened):
            rendezvous = opened
            return opened
        case .failure(let error):
            rendezvousFailure = error.description
            log("terminal approval is unavailable: \(error)")
            return nil
        }
    }

    // MARK: The poll loop's side

    var pollRequests: [(fd: Int32, events: Int16)] {
        runs.values.flatMap(\.pollRequests) + (rendezvous?.pollRequests ?? [])
    }

    func handle(_ fd: Int32, now: UInt64) {
        if let rendezvous, rendezvous.owns(fd) { return rendezvous.handle(fd, now: now) }
        for run in runs.values where run.pollRequests.contains(where: { $0.fd == fd }) { run.handle(fd) }
    }

    var nextDeadline: UInt64? {
        var deadlines = runs.values.map(\.deadline)
        if let next = rendezvous?.nextDeadline { deadlines.append(next) }
        if let finishingCheck { deadlines.append(finishingCheck) }
        return deadlines.min()
    }

    /// Collects ended commands; an exit answers its question.
    func reap() {
        for (id, run) in runs {
            guard let status = run.reap() else { continue }
            // Its last words first: what it wrote before exiting is in the pipes still.
            for request in run.pollRequests where request.events == Int16(POLLIN) { run.handle(request.fd) }
            run.closeAll()
            runs[id] = nil
            settle(id, run.answer(for: status))
        }
        finishing.removeAll { $0.reap() != nil || !$0.isRunning }
        if finishing.isEmpty { finishingCheck = nil }
    }

    static let finishingInterval: UInt64 = 50_000_000

    func tick(now: UInt64) {
        reap()
        if let check = finishingCheck, check <= now { finishingCheck = now + Self.finishingInterval }
        for (id, run) in runs where run.deadline <= now {
            log(
                "the approval command for \(run.question.tool) did not answer within \(run.question.timeoutSeconds) seconds; it is stopped and the call refused"
            )
            settle(id, .timedOut)
        }
        rendezvous?.expire(now: now)
    }

    /// The session ends: every command is killed and reaped (briefly waited for), the socket removed.
    func close() {
        for id in Array(asked) { withdraw(id) }
        let deadline = monotonicNow() + 1_000_000_000
        while !finishing.isEmpty && monotonicNow() < deadline {
            usleep(5_000)
            finishing.removeAll { $0.reap() != nil || !$0.isRunning }
        }
        rendezvous?.close()
        rendezvous = nil
    }
}
