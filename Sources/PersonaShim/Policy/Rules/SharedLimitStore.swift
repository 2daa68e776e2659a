#if canImport(Glibc)
    import Glibc
#endif

/// What a shared store concluded about one more call under a limit counted across sessions.
public enum SharedLimitOutcome: Sendable, Equatable {
    case reserved
    /// The limit is reached; a call may next succeed at this wall-clock time (nanoseconds since 1970).
    case full(nextAllowed: Int64)
    /// The count could not be read or written; the call is refused (fail closed).
    case unavailable(String)
}

/// Where limits counted across sessions keep their counts. The one I/O a limit needs, behind a protocol so the
/// session core can be tested without files.
public protocol SharedLimitStore: Sendable {
    func reserve(limit: CallLimit, now: Int64) -> SharedLimitOutcome
    func release(limit: CallLimit, time: Int64)
}

/// Counts in one small file per limit under a state directory: `<persona>.<limit id>.calls`, one call time a
/// line (wall-clock nanoseconds). Each update holds an exclusive `flock` on the file from read to write, so
/// concurrent sessions cannot both take the last call; the file survives restarts. A file that cannot be
/// opened, locked, read, parsed or written refuses the call, with a sentence saying which file and why.
public struct FileLimitStore: SharedLimitStore {
    public let directory: String
    public let persona: String

    public init(directory: String, persona: String) {
        self.directory = directory
        self.persona = persona
    }

    public func path(for limit: CallLimit) -> String {
        directory + "/" + persona + "." + limit.id.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" } + ".calls"
    }

    public func reserve(limit: CallLimit, now: Int64) -> SharedLimitOutcome {
        guard let interval = limit.per?.nanoseconds else { return .unavailable("the limit has no interval") }
        return update(limit) { times in
            times.removeAll { $0 <= now - interval || $0 > now + interval }
            if times.count >= limit.calls {
                let oldest = times.sorted()[times.count - limit.calls]
                return .full(nextAllowed: oldest + interval)
            }
            times.append(now)
            return .reserved
        }
    }

    public func release(limit: CallLimit, time: Int64) {
        _ = update(limit) { times in
            if let index = times.lastIndex(of: time) { times.remove(at: index) }
            return .reserved
        }
    }

    private func update(_ limit: CallLimit, _ change: (inout [Int64]) -> SharedLimitOutcome) -> SharedLimitOutcome {
        let path = path(for: limit)
        if let error = Files.createDirectories(directory, mode: 0o700) {
            return .unavailable("the state directory \"\(directory)\" cannot be created (\(error))")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .unavailable(failure("cannot be opened", path)) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { return .unavailable(failure("cannot be locked", path)) }
        defer { flock(fd, LOCK_UN) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 { return .unavailable(failure("cannot be read", path)) }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[..<count])
            if bytes.count > 64 * CallLimit.maximumCalls {
                return .unavailable("the state file \"\(path)\" is too large; delete it")
            }
        }
        var times: [Int64] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let time = Int64(String(decoding: line, as: UTF8.self)) else {
                return .unavailable("the state file \"\(path)\" is damaged; delete it to start counting afresh")
            }
            times.append(time)
        }
        let outcome = change(&times)
        guard case .reserved = outcome else { return outcome }
        let text = Array(times.map { String($0) + "\n" }.joined().utf8)
        // Rewritten in place under the lock; a crash mid-write leaves a damaged file, which refuses (fail closed).
        guard ftruncate(fd, 0) == 0, text.isEmpty || pwrite(fd, text, text.count, 0) == text.count else {
            return .unavailable(failure("cannot be written", path))
        }
        return outcome
    }

    private func failure(_ what: String, _ path: String) -> String {
        "the state file \"\(path)\" \(what) (\(String(cString: strerror(errno))))"
    }
}
