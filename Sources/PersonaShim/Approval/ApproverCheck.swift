import Platform

/// One process, named so that a reused pid is not mistaken for it: pid and start time.
struct ProcessIdentity: Sendable, Equatable {
    var pid: pid_t
    var startTime: UInt64

    init(_ status: ProcessStatus) {
        pid = status.pid
        startTime = status.startTime
    }

    init(pid: pid_t, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }
}

/// Who approved at a terminal, for the audit's `how`.
struct TerminalApprover: Sendable, Equatable {
    var process: ProcessIdentity
    var uid: uid_t
    /// `/dev/pts/3`, or `tty 4:1` for a device this cannot name.
    var terminal: String
}

/// Why a process may not answer: each is audited as an attempted approval.
enum ApproverRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case unverifiable
    case otherUser(uid_t)
    case noTerminal
    case insideAgent(root: pid_t)
    case detached(leader: pid_t)

    var description: String {
        switch self {
        case .unverifiable:
            "the connecting process could not be identified (it is gone, or in another pid namespace)"
        case .otherUser(let uid):
            "the connecting process runs as uid \(uid), not as the shim's user"
        case .noTerminal:
            "the connecting process has no controlling terminal, so no person is known to be at it"
        case .insideAgent(let root):
            "the connecting process descends from the agent (process \(root)) or the shim, so the agent could have started it"
        case .detached(let leader):
            "the connecting process does not descend from the leader of its terminal session (process \(leader)): it was detached from the shell of that terminal, as a process an agent leaves behind would be"
        }
    }

    /// The audit's short name for it.
    var code: String {
        switch self {
        case .unverifiable: "unverifiable"
        case .otherUser: "other-user"
        case .noTerminal: "no-terminal"
        case .insideAgent: "inside-agent"
        case .detached: "detached"
        }
    }
}

/// Decides whether the process at the other end of the rendezvous socket may approve a call: it must run as the
/// shim's user, have a controlling terminal, not descend from the agent or the shim, and descend from (or be) the
/// leader of its terminal session. What the peer says about itself counts for nothing: its pid and uid come from
/// the kernel (`SO_PEERCRED`), the rest from `/proc`.
///
/// The last check is for the agent that runs in a terminal: its processes share that terminal, and one it orphans
/// (`cmd &` in a shell that then exits, a double fork) leaves its tree while keeping the terminal. A person's
/// command descends from the shell that leads the terminal's session; an orphan hangs from init or a subreaper.
struct ApproverCheck: Sendable {
    /// The shim's user.
    var uid: uid_t
    /// The shim and the agent's processes (see `agentRoots`): a peer descending from any of them is refused.
    var guardedRoots: [ProcessIdentity]

    /// `process` is the process to read (`OS.processStatus`; tests give their own).
    func judge(
        pid: pid_t, uid peerUID: uid_t, process: (pid_t) -> ProcessStatus? = OS.processStatus
    ) -> Result<TerminalApprover, ApproverRefusal> {
        guard peerUID == uid else { return .failure(.otherUser(peerUID)) }
        guard pid > 0, let peer = process(pid) else { return .failure(.unverifiable) }
        guard peer.hasTerminal else { return .failure(.noTerminal) }
        // Up the parent chain to init: any guarded process on the way means the agent could have started the peer.
        var current = peer
        var underLeader = false
        for _ in 0..<4096 {
            if let root = guardedRoots.first(where: { $0 == ProcessIdentity(current) }) {
                return .failure(.insideAgent(root: root.pid))
            }
            if current.pid == peer.session { underLeader = true }
            guard current.parent > 1 else {
                guard underLeader else { return .failure(.detached(leader: peer.session)) }
                return .success(
                    TerminalApprover(
                        process: ProcessIdentity(peer), uid: peerUID, terminal: Self.terminalName(peer.terminal)))
            }
            // A parent that vanished mid-walk leaves the chain unknown: refused, not guessed.
            guard let parent = process(current.parent) else { return .failure(.unverifiable) }
            current = parent
        }
        return .failure(.unverifiable)
    }

    /// The processes whose descendants count as the agent's: the shim itself, its parent (the agent, or whatever
    /// launched the shim for it), and, when the shim runs in a terminal session, every further ancestor in that
    /// session below its leader (so a wrapper such as `sh -c` or `npx` between agent and shim does not hide the
    /// agent). The session leader (the person's shell) is not one of them: a person who suspends the agent and
    /// approves from that shell is not the agent.
    static func agentRoots(
        shim: pid_t = getpid(), process: (pid_t) -> ProcessStatus? = OS.processStatus
    ) -> [ProcessIdentity] {
        guard let me = process(shim) else { return [] }
        var roots = [ProcessIdentity(me)]
        guard me.parent > 1, let parent = process(me.parent) else { return roots }
        roots.append(ProcessIdentity(parent))
        guard me.hasTerminal else { return roots + launcherInTerminal(below: parent, session: me.session, process) }
        return roots + ancestorsBelowLeader(of: parent, process)
    }

    /// The ancestors of `start` in its session, below the session's leader.
    private static func ancestorsBelowLeader(
        of start: ProcessStatus, _ process: (pid_t) -> ProcessStatus?
    ) -> [ProcessIdentity] {
        var found: [ProcessIdentity] = []
        var current = start
        while current.parent > 1, let next = process(current.parent), next.session == start.session,
            next.pid != next.session, found.count < 62
        {
            found.append(ProcessIdentity(next))
            current = next
        }
        return found
    }

    /// A shim without a terminal whose session was made for its launch (the client started it, or a wrapper such as
    /// `npx`, in a new session: Python's `start_new_session`) by an agent that does run in a terminal: that agent's
    /// shell tool shares the terminal and descends from the person's shell, so the agent must be found above the
    /// new session. The session's processes up to its leader, the process that started the leader (when it has a
    /// terminal), and that one's ancestors below its own leader. Nothing when the process above the leader has no
    /// terminal either: an agent without one is not a person's terminal's neighbour.
    private static func launcherInTerminal(
        below parent: ProcessStatus, session: pid_t, _ process: (pid_t) -> ProcessStatus?
    ) -> [ProcessIdentity] {
        var chain: [ProcessIdentity] = []
        var leader = parent
        while leader.pid != leader.session, leader.parent > 1, let next = process(leader.parent),
            next.session == session, chain.count < 16
        {
            chain.append(ProcessIdentity(next))
            leader = next
        }
        guard leader.pid == session, !leader.hasTerminal, leader.parent > 1, let launcher = process(leader.parent),
            launcher.hasTerminal, launcher.pid != launcher.session
        else { return [] }
        return chain + [ProcessIdentity(launcher)] + ancestorsBelowLeader(of: launcher, process)
    }

    /// `/dev/pts/N` for a pseudo-terminal (majors 136–143), else the device numbers.
    static func terminalName(_ device: Int) -> String {
        // Linux's encoding of dev_t in /proc/PID/stat: minor bits 0–7 and 20–31, major bits 8–19.
        let major = (device >> 8) & 0xfff
        let minor = (device & 0xff) | ((device >> 12) & 0xfff00)
        if (136...143).contains(major) { return "/dev/pts/\((major - 136) * 256 + minor)" }
        return "tty \(major):\(minor)"
    }
}
