import Platform

/// The shim's end of terminal approval: a Unix domain socket in the per-user approvals folder, where
/// `persona-shim approvals`, `approve` and `deny` find this session's pending questions.
///
/// Each connection carries one request line and gets one answer line (see `ApprovalProtocol`), then closes. It
/// is served from the shell's poll loop without blocking: reads are bounded (`requestLimit`), and a peer that
/// has not sent its request and read the answer within `connectionSeconds` is dropped.
final class ApprovalRendezvous {
    let path: String
    private(set) var listenFD: Int32
    private let check: ApproverCheck
    private var connections: [Int32: Connection] = [:]
    private var questions: [String: Pending] = [:]
    /// Answers for the shell to hand to the core, in order.
    private(set) var answers: [(id: String, answer: ApprovalAnswer)] = []
    /// Refused attempts to answer, for the audit.
    private(set) var refusals: [RefusedAttempt] = []

    static let requestLimit = 64 * 1024
    static let connectionSeconds: Double = 10
    static let maxConnections = 32

    struct Pending {
        var question: ApprovalQuestion
        /// The code shown to the one process that asked to approve, which alone may send it back.
        var challenge: (code: String, approver: TerminalApprover)?
    }

    struct RefusedAttempt: Equatable {
        var question: String
        var pid: pid_t
        var uid: uid_t
        var refusal: String
        var reason: String
    }

    private final class Connection {
        let fd: Int32
        let deadline: UInt64
        var request: [UInt8] = []
        var response: [UInt8]?
        var written = 0
        init(fd: Int32, deadline: UInt64) {
            self.fd = fd
            self.deadline = deadline
        }
    }

    private init(path: String, listenFD: Int32, check: ApproverCheck) {
        self.path = path
        self.listenFD = listenFD
        self.check = check
    }

    /// Opens this session's socket in `directory` (prepared and checked first).
    static func open(directory: String, pid: pid_t = getpid(), check: ApproverCheck) -> Result<
        ApprovalRendezvous, ApprovalSetupError
    > {
        if case .failure(let error) = ApprovalDirectory.prepare(directory) { return .failure(error) }
        let path = ApprovalDirectory.socketPath(in: directory, pid: pid)
        // A socket left by an earlier shim with this pid (killed before it could clean up) is stale.
        unlink(path)
        switch OS.listenLocal(path) {
        case .success(let fd):
            return .success(ApprovalRendezvous(path: path, listenFD: fd, check: check))
        case .failure(let error):
            return .failure(
                .init(
                    "cannot open the approval socket \(path) (\(String(cString: strerror(error.errno)))), so persona-shim approve cannot reach this session."
                ))
        }
    }

    // MARK: Questions

    func publish(_ question: ApprovalQuestion) { questions[question.id] = Pending(question: question) }
    func withdraw(_ id: String) { questions[id] = nil }
    var pendingCount: Int { questions.count }

    func takeAnswers() -> [(id: String, answer: ApprovalAnswer)] {
        defer { answers = [] }
        return answers
    }

    func takeRefusals() -> [RefusedAttempt] {
        defer { refusals = [] }
        return refusals
    }

    // MARK: The poll loop's side

    var pollRequests: [(fd: Int32, events: Int16)] {
        var requests: [(Int32, Int16)] = []
        if listenFD >= 0 && connections.count < Self.maxConnections { requests.append((listenFD, Int16(POLLIN))) }
        for connection in connections.values {
            requests.append((connection.fd, Int16(connection.response == nil ? POLLIN : POLLOUT)))
        }
        return requests
    }

    var nextDeadline: UInt64? { connections.values.map(\.deadline).min() }

    func owns(_ fd: Int32) -> Bool { fd == listenFD || connections[fd] != nil }

    func handle(_ fd: Int32, now: UInt64) {
        if fd == listenFD {
            accept(now: now)
        } else if let connection = connections[fd] {
            if connection.response == nil { read(connection) } else { write(connection) }
        }
    }

    /// Drops connections past their time: a peer that stalls holds nothing up.
    func expire(now: UInt64) {
        for connection in connections.values where connection.deadline <= now { drop(connection) }
    }

    func close() {
        for connection in connections.values { drop(connection) }
        if listenFD >= 0 {
            FD.close(listenFD)
            listenFD = -1
            unlink(path)
        }
    }

    private func accept(now: UInt64) {
        while connections.count < Self.maxConnections {
            let fd = OS.acceptLocal(listenFD)
            guard fd >= 0 else { return }
            connections[fd] = Connection(fd: fd, deadline: now + nanoseconds(Self.connectionSeconds))
        }
    }

    private func read(_ connection: Connection) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let result = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try FD.read(connection.fd, into: raw) }
            }
            switch result {
            case .success(nil): return
            case .success(let count?) where count > 0:
                connection.request += chunk[..<count]
                if let newline = connection.request.firstIndex(of: UInt8(ascii: "\n")) {
                    return respond(connection, to: Array(connection.request[..<newline]))
                }
                if connection.request.count > Self.requestLimit {
                    return respond(
                        connection,
                        with: ApprovalProtocol.error("the request is longer than \(Self.requestLimit) bytes"))
                }
            default:
                return drop(connection)
            }
        }
    }

    private func write(_ connection: Connection) {
        guard let response = connection.response else { return }
        while connection.written < response.count {
            let count = response.withUnsafeBytes { raw in
                OS.sendNoSignal(connection.fd, UnsafeRawBufferPointer(rebasing: raw[connection.written...]))
            }
            if count > 0 {
                connection.written += count
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                return
            } else {
                return drop(connection)
            }
        }
        drop(connection)
    }

    private func drop(_ connection: Connection) {
        FD.close(connection.fd)
        connections[connection.fd] = nil
    }

    private func respond(_ connection: Connection, with response: JSONValue) {
        connection.response = JSONWriter.encode(response) + [UInt8(ascii: "\n")]
        write(connection)
    }

    private func respond(_ connection: Connection, to line: [UInt8]) {
        guard let peer = OS.peerCredentials(connection.fd) else {
            return respond(connection, with: ApprovalProtocol.error("the connecting process could not be identified"))
        }
        switch ApprovalProtocol.Request.parse(line: line) {
        case .failure(let problem):
            respond(connection, with: ApprovalProtocol.error(problem.sentence))
        case .success(let request):
            respond(connection, with: answer(request, pid: peer.pid, uid: peer.uid))
        }
    }

    // MARK: Requests

    /// The answer to one request from the process `pid` running as `uid` (from SO_PEERCRED).
    func answer(
        _ request: ApprovalProtocol.Request, pid: pid_t, uid: uid_t,
        process: (pid_t) -> ProcessStatus? = OS.processStatus
    ) -> JSONValue {
        // The folder is 0700 and the socket 0600, but root or a misconfigured folder could still let others in.
        guard uid == check.uid else {
            return ApprovalProtocol.error("only uid \(check.uid) may use this session's approvals")
        }
        switch request {
        case .list:
            return ["questions": .array(questions.values.map(\.question).sorted { $0.id < $1.id }.map(\.json))]
        case .challenge(let id):
            guard questions[id] != nil else { return ApprovalProtocol.unknown(id) }
            switch check.judge(pid: pid, uid: uid, process: process) {
            case .failure(let refusal):
                return refuse(id, pid: pid, uid: uid, refusal: refusal.code, reason: refusal.description)
            case .success(let approver):
                let code = ApprovalProtocol.newCode()
                questions[id]?.challenge = (code, approver)
                return ["code": .string(code)]
            }
        case .approve(let id, let code):
            guard let pending = questions[id] else { return ApprovalProtocol.unknown(id) }
            switch check.judge(pid: pid, uid: uid, process: process) {
            case .failure(let refusal):
                return refuse(id, pid: pid, uid: uid, refusal: refusal.code, reason: refusal.description)
            case .success(let approver):
                guard let challenge = pending.challenge, challenge.approver.process == approver.process else {
                    return refuse(
                        id, pid: pid, uid: uid, refusal: "no-challenge",
                        reason: "this process was shown no code for the question")
                }
                // One try per code: a wrong code needs a fresh `persona-shim approve`.
                questions[id]?.challenge = nil
                guard ApprovalProtocol.sameCode(challenge.code, code) else {
                    return refuse(
                        id, pid: pid, uid: uid, refusal: "wrong-code", reason: "the code typed was not the code shown")
                }
                questions[id] = nil
                let how =
                    "persona-shim approve on \(approver.terminal) (pid \(approver.process.pid), uid \(approver.uid)), the code shown typed back"
                answers.append((id, .approved(by: "terminal", how: how)))
                return ["answer": "approved"]
            }
        case .deny(let id):
            guard questions[id] != nil else { return ApprovalProtocol.unknown(id) }
            questions[id] = nil
            // Denying needs no proof of a person: the worst an agent can do with it is refuse its own call.
            let terminal = process(pid).flatMap { $0.hasTerminal ? ApproverCheck.terminalName($0.terminal) : nil }
            let how = "persona-shim deny \(terminal.map { "on \($0) " } ?? "")(pid \(pid), uid \(uid))"
            answers.append((id, .denied(by: "terminal", how: how)))
            return ["answer": "denied"]
        }
    }

    private func refuse(_ id: String, pid: pid_t, uid: uid_t, refusal: String, reason: String) -> JSONValue {
        refusals.append(RefusedAttempt(question: id, pid: pid, uid: uid, refusal: refusal, reason: reason))
        return ["refused": .string(reason)]
    }
}
