import Platform

/// The command side of terminal approval: finds running shims' questions in the approvals folder and talks to
/// their sockets, one request per connection (`ApprovalProtocol`).
enum ApprovalClient {
    /// A question and the socket of the shim that asks it.
    struct Found {
        var socket: String
        var question: ApprovalQuestion
    }

    /// How long a shim may take to answer one request.
    static let replyMilliseconds: Int32 = 10_000
    static let replyLimit = 256 * 1024 * 1024

    /// Every pending question of every running shim of this user. Sockets nobody listens on any more (a shim that
    /// was killed) are removed.
    static func pendingQuestions(directory: String) -> [Found] {
        var found: [Found] = []
        for socket in ApprovalDirectory.sockets(in: directory) {
            switch exchange(socket, .list) {
            case .success(let reply):
                for question in reply["questions"]?.arrayValue ?? [] {
                    if let question = ApprovalQuestion(json: question) {
                        found.append(Found(socket: socket, question: question))
                    }
                }
            case .failure(let error) where error.errno == ECONNREFUSED:
                unlink(socket)
            case .failure:
                continue
            }
        }
        return found
    }

    /// Sends one request and reads the one-line reply.
    static func exchange(_ socket: String, _ request: ApprovalProtocol.Request) -> Result<JSONValue, LocalSocketError> {
        let fd: Int32
        switch OS.connectLocal(socket) {
        case .success(let connected): fd = connected
        case .failure(let error): return .failure(error)
        }
        defer { FD.close(fd) }
        let line = JSONWriter.encode(request.json) + [UInt8(ascii: "\n")]
        var written = 0
        while written < line.count {
            let count = line.withUnsafeBytes { OS.sendNoSignal(fd, UnsafeRawBufferPointer(rebasing: $0[written...])) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return .failure(LocalSocketError(errno: errno)) }
            written += count
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !reply.contains(UInt8(ascii: "\n")) && reply.count < replyLimit {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, replyMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return .failure(LocalSocketError(errno: ETIMEDOUT)) }
            let count = chunk.withUnsafeMutableBytes { Platform.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            reply += chunk[..<count]
        }
        guard let end = reply.firstIndex(of: UInt8(ascii: "\n")), let json = try? JSONValue(parsing: reply[..<end])
        else { return .failure(LocalSocketError(errno: EPROTO)) }
        return .success(json)
    }
}
