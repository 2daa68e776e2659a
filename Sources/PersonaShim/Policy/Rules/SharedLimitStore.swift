import Platform

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
/// line (wall-clock nanoseconds). Each update holds an exclusive `flock` on `<…>.calls.lock` from read to
/// write, so concurrent sessions cannot both take the last call; the counts are replaced by renaming a new
/// file over them, and survive restarts. A file that cannot be
/// opened, locked, read, parsed or written refuses the call, with a sentence saying which file and why.
public struct FileLimitStore: SharedLimitStore {
    public let directory: String
    public let persona: String

    public init(directory: String, persona: String) {
        self.directory = directory
        self.persona = persona
    }

    /// `$XDG_STATE_HOME/persona-shim/limits`, else `~/.local/state/persona-shim/limits`, beside the audit file.
    public static func defaultDirectory(_ environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/persona-shim/limits" }
        return Paths.home(environment) + "/.local/state/persona-shim/limits"
    }

    public func path(for limit: CallLimit) -> String {
        directory + "/" + persona + "." + limit.id.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" } + ".calls"
    }

    public func reserve(limit: CallLimit, now: Int64) -> SharedLimitOutcome {
        guard let interval = limit.per?.nanoseconds else { return .unavailable("the limit has no interval") }
        return update(limit) { times in
            // Times more than a window ahead come from a clock set back since; keeping them could refuse for
            // as long as the clock was off, so they are dropped (at most one window's calls are forgiven).
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
        // The lock is on a file of its own, so the counts can be replaced whole by a rename: a crash leaves the
        // old counts or the new ones, never an empty file that would start counting afresh.
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { return .unavailable(failure("cannot be opened", path + ".lock")) }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { return .unavailable(failure("cannot be locked", path + ".lock")) }
        defer { flock(lock, LOCK_UN) }
        let bytes: [UInt8]
        if let read = Files.read(path) {
            bytes = read
        } else if !Files.exists(path) {
            bytes = []
        } else {
            return .unavailable(failure("cannot be read", path))
        }
        if bytes.count > 64 * CallLimit.maximumCalls {
            return .unavailable("the state file \"\(path)\" is too large; delete it")
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
        let temporary = path + ".new"
        guard Files.write(text, to: temporary, mode: 0o600), rename(temporary, path) == 0 else {
            let failed = failure("cannot be written", path)
            unlink(temporary)
            return .unavailable(failed)
        }
        return outcome
    }

    private func failure(_ what: String, _ path: String) -> String {
        "the state file \"\(path)\" \(what) (\(String(cString: strerror(errno))))"
    }
}
