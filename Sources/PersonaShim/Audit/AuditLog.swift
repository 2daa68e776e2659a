#if canImport(Glibc)
    import Glibc
#endif

/// Why an audit record could not be written.
public struct AuditError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "cannot write the audit record to \(path): \(reason)" }
}

/// Who is calling: the agent's own claim about itself, and where the claim came from.
public struct AgentIdentity: Sendable, Equatable {
    public var name: String
    public var version: String?
    /// `clientInfo` while the only evidence is the agent's self-report in `initialize`.
    public var source: String

    var json: JSONValue {
        var object = JSONObject([("name", .string(name))])
        if let version { object["version"] = .string(version) }
        object["source"] = .string(source)
        return .object(object)
    }
}

/// The single writer of one session's audit trail: JSON lines, one per event, appended in `seq` order.
///
/// Records are written with one `write(2)` each on a file opened with `O_APPEND`, so concurrent sessions
/// sharing a file never interleave inside a line. A record that cannot be written is an error the caller
/// must act on (the shim refuses the call it was about to record).
public final class AuditLog {
    public let path: String
    public let session: String
    public let persona: String
    public let user: String
    public var agent: AgentIdentity? {
        didSet { constantTail = nil }
    }
    private let fsync: Bool
    private var descriptor: Int32 = -1
    private var nextSequence = 1
    /// Records encoded but not yet written: outcomes wait here and go out with the next write.
    private var pending: [UInt8] = []
    /// `,"agent":…,"user":…,"persona":…`, the part of every record that changes at most once.
    private var constantTail: [UInt8]?
    private var sessionField: [UInt8] = []
    /// The timestamp text up to the seconds, for the second it was made in.
    private var cachedSecond: (seconds: Int, text: [UInt8])?

    public init(path: String, fsync: Bool, session: String, persona: String, user: String) {
        self.path = path
        self.fsync = fsync
        self.session = session
        self.persona = persona
        self.user = user
        sessionField = Array(#","session":"#.utf8)
        JSONWriter.appendString(session, to: &sessionField)
        sessionField.append(contentsOf: #","seq":"#.utf8)
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Appends one record (the common fields, then `fields` in order) and writes it, with any records
    /// waiting before it, before returning: a write-ahead record is on disk (or in the kernel) when this returns.
    public func record(_ event: String, _ fields: [(String, JSONValue)] = []) throws(AuditError) {
        encode(event, fields)
        try writePending()
    }

    /// Appends one record that may wait for the next write (an outcome: nothing waits on it being on disk).
    /// It goes out with the next write-ahead record, or when the session has been idle briefly (`flush()`).
    public func recordLater(_ event: String, _ fields: [(String, JSONValue)] = []) {
        encode(event, fields)
    }

    /// Writes the records that wait, if any.
    public func flush() throws(AuditError) {
        if !pending.isEmpty { try writePending() }
    }

    public var hasPending: Bool { !pending.isEmpty }

    private func encode(_ event: String, _ fields: [(String, JSONValue)]) {
        pending.append(contentsOf: #"{"ts":""#.utf8)
        appendTimestamp()
        pending.append(UInt8(ascii: "\""))
        pending.append(contentsOf: sessionField)
        pending.append(contentsOf: String(nextSequence).utf8)
        nextSequence += 1
        pending.append(contentsOf: #","event":"#.utf8)
        JSONWriter.appendString(event, to: &pending)
        if constantTail == nil {
            var tail = Array(#","agent":"#.utf8)
            JSONWriter.append(agent?.json ?? .null, to: &tail)
            tail.append(contentsOf: #","user":"#.utf8)
            JSONWriter.appendString(user, to: &tail)
            tail.append(contentsOf: #","persona":"#.utf8)
            JSONWriter.appendString(persona, to: &tail)
            constantTail = tail
        }
        pending.append(contentsOf: constantTail!)
        for (key, value) in fields {
            pending.append(UInt8(ascii: ","))
            JSONWriter.appendString(key, to: &pending)
            pending.append(UInt8(ascii: ":"))
            JSONWriter.append(value, to: &pending)
        }
        pending.append(contentsOf: "}\n".utf8)
    }

    private func writePending() throws(AuditError) {
        try open()
        let written = pending.withUnsafeBytes { raw -> Int in
            var offset = 0
            while offset < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return -Int(errno)
                }
                offset += result
            }
            return offset
        }
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 16)
        if written < 0 {
            let reason = String(cString: strerror(Int32(-written)))
            Glibc.close(descriptor)
            descriptor = -1
            throw AuditError(path: path, reason: reason)
        }
        if fsync && fdatasync(descriptor) != 0 {
            throw AuditError(path: path, reason: "fsync failed: " + String(cString: strerror(errno)))
        }
    }

    private func appendTimestamp() {
        let time = Self.now()
        if cachedSecond?.seconds != time.tv_sec {
            let text = Self.timestamp(time)
            cachedSecond = (time.tv_sec, Array(text.utf8.prefix(20)))
        }
        pending.append(contentsOf: cachedSecond!.text)
        let milliseconds = Int(time.tv_nsec / 1_000_000)
        pending.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        pending.append(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        pending.append(UInt8(ascii: "0") + UInt8(milliseconds % 10))
        pending.append(UInt8(ascii: "Z"))
    }

    /// Opens (or reopens, after a failure) the file, creating it and its folder owner-only.
    private func open() throws(AuditError) {
        if descriptor >= 0 { return }
        if let error = Files.createDirectories(Paths.directory(of: path), mode: 0o700) {
            throw AuditError(path: path, reason: "its folder could not be created (\(error))")
        }
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditError(path: path, reason: String(cString: strerror(errno))) }
        descriptor = fd
    }

    /// The time now as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T22:41:13.042Z`.
    public static func timestamp(_ time: timespec = now()) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(time.tv_nsec / 1_000_000), 3))Z"
    }

    public static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    /// The default audit file: `$XDG_STATE_HOME/persona-shim/audit.jsonl`, else `~/.local/state/persona-shim/audit.jsonl`.
    public static func defaultPath(environment: [String: String] = ProcessEnvironment.current()) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return state + "/persona-shim/audit.jsonl"
        }
        let home = Paths.home(environment)
        return home + "/.local/state/persona-shim/audit.jsonl"
    }

    /// A fresh random session id (128 bits, hex).
    public static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
    }

    /// The operating-system user the shim runs as.
    public static func currentUser() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessEnvironment.current()["USER"] ?? "uid:\(geteuid())"
    }
}

/// `sha256:` of the canonical form of `value` (sorted keys, no whitespace, numbers as written).
public func canonicalDigest(_ value: JSONValue) -> String {
    "sha256:" + SHA256.hash(JSONWriter.encode(value, canonical: true)).hexString
}
