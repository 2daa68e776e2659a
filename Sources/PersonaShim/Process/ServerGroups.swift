import Platform

/// The process groups of the servers the shim started (each server leads its own), from spawn until no process is
/// left in them: signalled only while they are certainly the shim's, stopped when their leader is gone, and handed
/// to a `Guardian` so that they are stopped even if the shim is killed.
///
/// A group id is a pid number. While the leader is unreaped it cannot be reused; once the leader is reaped the
/// number stays taken only while some process of the group remains. So a group is signalled only while its leader
/// is unreaped (the leader itself through a pidfd) or while `kill(-pgid, 0)` still finds a member, and it is
/// forgotten, here and by the guardian, as soon as it is found empty.
final class ServerGroups {
    struct Group {
        var pidfd: Int32
        var leaderReaped = false
        /// When a group whose leader is gone gets SIGKILL if anything is still in it.
        var killAt: UInt64?
    }

    private var groups: [pid_t: Group] = [:]
    private var guardian: Guardian?
    private var guardianTried = false
    private let grace: Double
    private let log: (String) -> Void

    /// `grace` is how long a group gets between SIGTERM and SIGKILL; `log` receives warnings for the user.
    init(grace: Double = 2, log: @escaping (String) -> Void = { _ in }) {
        self.grace = grace
        self.log = log
    }

    /// When `tick` has work: the earliest SIGKILL due to a group whose leader is gone.
    var deadline: UInt64? { groups.values.compactMap(\.killAt).min() }

    /// The groups still recorded (for tests and diagnostics).
    var recorded: [pid_t] { groups.keys.sorted() }

    /// A server just spawned as `pid`, leading group `pid`.
    func started(_ pid: pid_t) {
        guard pid > 1 else { return }
        startGuardian()
        groups[pid] = Group(pidfd: OS.openProcessHandle(pid))
        guardian?.watch(pid)
        reportGuardianFailure()
    }

    /// Signals the group led by `pid` if it is still the shim's: the leader through its pidfd, the group with killpg
    /// while the unreaped leader pins its number or members remain.
    func signal(_ pid: pid_t, _ signal: Int32) {
        guard var group = groups[pid] else { return }
        if !group.leaderReaped, group.pidfd >= 0, OS.signalProcessHandle(group.pidfd, signal) != 0, errno == ESRCH {
            // ESRCH from a pidfd means reaped (a zombie still takes signals), here by someone else: from now on
            // only remaining members keep the number from being reused.
            group.pidfd = closing(group.pidfd)
            group.leaderReaped = true
            groups[pid] = group
        }
        if group.leaderReaped && !ProcessGroup.exists(pid) { return forget(pid) }
        _ = killpg(pid, signal)
    }

    /// The leader `pid` was reaped. Whatever is left of its group (grandchildren started through `sh`, `npx` …) is
    /// an orphan no one will talk to: it gets SIGTERM now and SIGKILL after the grace period (see `tick`).
    func leaderReaped(_ pid: pid_t, now: UInt64 = monotonicNow()) {
        guard var group = groups[pid], !group.leaderReaped else { return }
        group.pidfd = closing(group.pidfd)
        group.leaderReaped = true
        groups[pid] = group
        guard ProcessGroup.exists(pid) else { return forget(pid) }
        _ = killpg(pid, SIGTERM)
        _ = killpg(pid, SIGCONT)
        group.killAt = now + nanoseconds(grace)
        groups[pid] = group
    }

    /// Whether anything of the group led by `pid` may still be the shim's: recorded, with its leader unreaped or
    /// members left. An empty group is forgotten here.
    func remains(_ pid: pid_t) -> Bool {
        guard let group = groups[pid] else { return false }
        guard group.leaderReaped && !ProcessGroup.exists(pid) else { return true }
        forget(pid)
        return false
    }

    /// Forgets empty groups and sends SIGKILL to those past their grace period; returns the next deadline, if any.
    @discardableResult
    func tick(now: UInt64 = monotonicNow()) -> UInt64? {
        forgetEmptyGroups()
        var next: UInt64?
        for (pid, group) in groups {
            guard let killAt = group.killAt else { continue }
            if killAt <= now {
                _ = killpg(pid, SIGKILL)
                // Looked at again soon, to be forgotten once the kernel has emptied it.
                groups[pid]?.killAt = now + 100_000_000
            }
            next = min(next ?? .max, groups[pid]?.killAt ?? .max)
        }
        return next
    }

    /// Stops every group whose leader is gone (the leaders themselves are the session's to stop first): SIGTERM,
    /// up to `grace` seconds, SIGKILL; then waits briefly for the kernel to empty them, reaping adopted orphans.
    func stopLeftovers(grace: Double, known: [pid_t]) {
        forgetEmptyGroups()
        let leftovers = groups.filter { $0.value.leaderReaped }.map(\.key)
        for pid in leftovers {
            _ = killpg(pid, SIGTERM)
            _ = killpg(pid, SIGCONT)
        }
        waitForLeftovers(seconds: grace, known: known)
        for pid in leftovers where groups[pid] != nil { _ = killpg(pid, SIGKILL) }
        waitForLeftovers(seconds: 0.5, known: known)
    }

    private func waitForLeftovers(seconds: Double, known: [pid_t]) {
        let deadline = monotonicNow() + nanoseconds(seconds)
        while true {
            reapOrphans(known: known)
            forgetEmptyGroups()
            guard hasLeftovers && monotonicNow() < deadline else { return }
            usleep(10_000)
        }
    }

    private func forgetEmptyGroups() {
        for (pid, group) in groups where group.leaderReaped && !ProcessGroup.exists(pid) { forget(pid) }
    }

    /// Tells the guardian the shim is done (it stops anything still recorded) and collects it.
    func finish() {
        guardian?.stop(waiting: grace + 1)
        guardian = nil
    }

    /// Collects exited children the shim did not start itself but adopted as a subreaper; leaves `known` ones.
    func reapOrphans(known: [pid_t]) {
        let mine = known + (guardian.map { [$0.pid] } ?? [])
        OS.reapOrphans(known: mine)
    }

    private var hasLeftovers: Bool { groups.values.contains { $0.leaderReaped } }

    private func forget(_ pid: pid_t) {
        guard let group = groups.removeValue(forKey: pid) else { return }
        _ = closing(group.pidfd)
        guardian?.forget(pid)
    }

    private func closing(_ fd: Int32) -> Int32 {
        if fd >= 0 { FD.close(fd) }
        return -1
    }

    private func startGuardian() {
        guard !guardianTried else { return }
        guardianTried = true
        // Orphaned grandchildren are then reparented to the shim, which reaps them: no zombie keeps a group alive.
        if OS.becomeChildSubreaper() != 0 {
            log(
                "cannot become a child subreaper (\(SystemError(call: "prctl", errno: errno))); processes a server leaves behind are reaped by init instead, which may leave zombies."
            )
        }
        do {
            guardian = try Guardian.start(grace: min(grace, 1))
        } catch {
            log(
                "cannot start the guardian process (\(error)); if persona-shim is killed with SIGKILL, its servers may keep running. Stop it with SIGTERM instead."
            )
        }
    }

    private func reportGuardianFailure() {
        if let failure = guardian?.failure {
            log(
                "the guardian process is gone (\(failure)); if persona-shim is killed with SIGKILL, its servers may keep running. Stop it with SIGTERM instead."
            )
            guardian = nil
        }
    }
}
