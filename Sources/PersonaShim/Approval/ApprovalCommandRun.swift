import Platform

/// One run of the persona's approval command for one question: started with the question as a JSON line on its
/// stdin, its output copied to the shim's log (bounded), approving only by exiting 0 before the deadline.
///
/// The command leads its own process group, registered with the shell's `ServerGroups` (so the guardian stops it
/// if the shim is killed). Nothing here blocks: the shell's poll loop calls `handle` when a descriptor is ready,
/// `reap` on SIGCHLD and `expire` at the deadline. Whatever ends the run, the group is killed and the leader reaped.
final class ApprovalCommandRun {
    let question: ApprovalQuestion
    let argv: [String]
    let pid: pid_t
    let deadline: UInt64
    private(set) var stdinFD: Int32
    private(set) var stdoutFD: Int32
    private(set) var stderrFD: Int32
    private var input: [UInt8]
    private var written = 0
    private let output = LineReader(limit: ApprovalCommandRun.lineLimit)
    private let errors = LineReader(limit: ApprovalCommandRun.lineLimit)
    private var loggedLines = 0
    private let groups: ServerGroups
    private let log: (String) -> Void
    /// Set once the leader is reaped.
    private(set) var exitStatus: ExitStatus?
    /// Set once it was killed (timeout, withdrawal, shutdown): its exit no longer answers anything.
    private(set) var killed = false

    /// Lines of its output copied to the log per run, and the longest line shown.
    static let loggedLineLimit = 64
    static let lineLimit = 4096

    /// The keys the command inherits besides the base environment: what a desktop dialog or a chat client needs
    /// to reach the person's session.
    static let inheritedKeys = ["DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "LANG"]

    /// Starts the command; the error is a sentence for the audit and the log.
    static func start(
        _ question: ApprovalQuestion, argv: [String], environment: [String: String], groups: ServerGroups,
        now: UInt64, log: @escaping (String) -> Void
    ) -> Result<ApprovalCommandRun, ApprovalSetupError> {
        guard let executable = argv.first, !executable.isEmpty else {
            return .failure(.init("the persona's approval command is empty"))
        }
        var childEnvironment = ChildEnvironment.build(parent: environment, declared: [:])
        for key in inheritedKeys { if let value = environment[key] { childEnvironment[key] = value } }
        childEnvironment["PERSONA_SHIM_QUESTION"] = question.id
        let spawned: SpawnedChild
        do {
            spawned = try ChildSpawner.spawn(
                ChildCommand(executable: executable, arguments: Array(argv.dropFirst())),
                environment: childEnvironment)
        } catch {
            let reason = String(cString: strerror(error.errno))
            return .failure(
                .init(
                    "the approval command \"\(executable)\" could not be started (\(reason)); check the persona's approval.command"
                ))
        }
        groups.started(spawned.pid)
        let deadline = now + UInt64(max(question.timeoutSeconds, 0)) * 1_000_000_000
        return .success(
            ApprovalCommandRun(question, argv: argv, spawned: spawned, deadline: deadline, groups: groups, log: log))
    }

    private init(
        _ question: ApprovalQuestion, argv: [String], spawned: SpawnedChild, deadline: UInt64, groups: ServerGroups,
        log: @escaping (String) -> Void
    ) {
        self.question = question
        self.argv = argv
        self.pid = spawned.pid
        self.stdinFD = spawned.stdin
        self.stdoutFD = spawned.stdout
        self.stderrFD = spawned.stderr
        self.deadline = deadline
        self.input = question.jsonLine
        self.groups = groups
        self.log = log
    }

    var isRunning: Bool { exitStatus == nil }

    /// The descriptors to poll, and for what.
    var pollRequests: [(fd: Int32, events: Int16)] {
        var requests: [(Int32, Int16)] = []
        if stdinFD >= 0 { requests.append((stdinFD, Int16(POLLOUT))) }
        if stdoutFD >= 0 { requests.append((stdoutFD, Int16(POLLIN))) }
        if stderrFD >= 0 { requests.append((stderrFD, Int16(POLLIN))) }
        return requests
    }

    /// Moves the question into its stdin and its output into the log, as far as the descriptor `fd` allows.
    func handle(_ fd: Int32) {
        if fd == stdinFD {
            writeInput()
        } else if fd == stdoutFD {
            stdoutFD = drain(stdoutFD, into: output, stream: "stdout")
        } else if fd == stderrFD {
            stderrFD = drain(stderrFD, into: errors, stream: "stderr")
        }
    }

    private func writeInput() {
        while written < input.count {
            let result = input.withUnsafeBytes { raw in
                Result { () throws(SystemError) in
                    try FD.write(stdinFD, UnsafeRawBufferPointer(rebasing: raw[written...]))
                }
            }
            switch result {
            case .success(let count?): written += count
            case .success(nil): return
            // A command that exits or closes its stdin without reading the question answers by its exit all the same.
            case .failure: written = input.count
            }
        }
        FD.close(stdinFD)
        stdinFD = -1
        input = []
    }

    private func drain(_ fd: Int32, into reader: LineReader, stream: String) -> Int32 {
        for _ in 0..<4 {
            let result = (try? reader.fill(from: fd)) ?? .endOfFile
            if result == .endOfFile { reader.finishInput() }
            while let event = reader.next() {
                switch event {
                case .line(let range):
                    logLine(String(decoding: reader.bytes[range], as: UTF8.self), stream: stream)
                case .oversized(let bytes):
                    logLine("(\(bytes) bytes on one line, not shown)", stream: stream)
                }
            }
            switch result {
            case .wouldBlock: return fd
            case .endOfFile:
                FD.close(fd)
                return -1
            case .data: continue
            }
        }
        return fd
    }

    private func logLine(_ line: String, stream: String) {
        loggedLines += 1
        if loggedLines <= Self.loggedLineLimit {
            log("[approval \(question.id.prefix(8)) \(stream)] \(line)")
        } else if loggedLines == Self.loggedLineLimit + 1 {
            log("[approval \(question.id.prefix(8))] further output of the approval command is not shown")
        }
    }

    /// Collects its exit if it has ended; what is left of its group is then stopped by `ServerGroups`.
    @discardableResult
    func reap() -> ExitStatus? {
        guard exitStatus == nil, let status = Reaper.poll(pid) else { return nil }
        exitStatus = status
        groups.leaderReaped(pid)
        return status
    }

    /// Kills the whole process group at once: the question is settled or withdrawn, nothing it does matters now.
    func kill() {
        killed = true
        if isRunning { groups.signal(pid, SIGKILL) }
        closeAll()
    }

    func closeAll() {
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { FD.close(fd) }
        stdinFD = -1
        stdoutFD = -1
        stderrFD = -1
    }

    /// What its exit means for the question.
    func answer(for status: ExitStatus) -> ApprovalAnswer {
        let name = argv[0]
        switch status {
        case .exited(0):
            return .approved(by: "command", how: "the approval command \(name) (pid \(pid)) exited with code 0")
        case .unknown:
            return .failed(
                by: "command", reason: "the approval command \(name) (pid \(pid)) ended with an unknown status")
        case .exited(let code):
            return .denied(by: "command", how: "the approval command \(name) (pid \(pid)) exited with code \(code)")
        case .signaled:
            return .failed(by: "command", reason: "the approval command \(name) (pid \(pid)) \(status)")
        }
    }
}
