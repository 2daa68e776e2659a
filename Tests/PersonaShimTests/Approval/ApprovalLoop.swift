import Glibc
import Testing

@testable import PersonaShim

/// Drives out-of-band approvals as the shell's poll loop does, without a session: poll their descriptors, handle
/// what is ready, reap, tick; until `done` or the timeout (generous: the machine may be loaded).
func drive(_ approvals: OutOfBandApprovals, seconds: Double = 30, until done: () -> Bool) {
    let deadline = monotonicNow() + nanoseconds(seconds)
    while !done() && monotonicNow() < deadline {
        var fds = approvals.pollRequests.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
        _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 20) }
        let now = monotonicNow()
        for descriptor in fds where descriptor.revents != 0 { approvals.handle(descriptor.fd, now: now) }
        approvals.reap()
        if let next = approvals.nextDeadline, next <= now { approvals.tick(now: now) }
    }
}

/// Serves a rendezvous the same way.
func serve(_ rendezvous: ApprovalRendezvous, seconds: Double = 10, until done: () -> Bool) {
    let deadline = monotonicNow() + nanoseconds(seconds)
    while !done() && monotonicNow() < deadline {
        var fds = rendezvous.pollRequests.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
        _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 20) }
        let now = monotonicNow()
        for descriptor in fds where descriptor.revents != 0 { rendezvous.handle(descriptor.fd, now: now) }
        rendezvous.expire(now: now)
    }
}

func sampleQuestion(id: String = "q-" + AuditLog.newSessionID(), timeout: Int = 60) -> ApprovalQuestion {
    let arguments = Array(#"{"amount":250,"customer":"cus_1001","note":"bad\u001b[2Jthing"}"#.utf8)
    return ApprovalQuestion(
        id: id, session: "s-1", persona: "support-refunds", server: "billing", tool: "billing__refund",
        arguments: arguments, argumentsDigest: "sha256:" + String(repeating: "ab", count: 32), rule: "big-refunds",
        reason: "refunds above 100 need a person's approval", timeoutSeconds: timeout)
}

/// A private approvals folder for one test, removed afterwards.
final class ApprovalFolder {
    let root: String
    var environment: [String: String] { ["XDG_RUNTIME_DIR": root, "PATH": "/usr/bin:/bin"] }
    var directory: String { ApprovalDirectory.path(environment: environment) }

    init() {
        root = Files.makeTemporaryDirectory(prefix: "ps-approvals-")!
    }

    deinit {
        Files.removeFlatDirectory(directory)
        Files.removeFlatDirectory(root)
    }
}
