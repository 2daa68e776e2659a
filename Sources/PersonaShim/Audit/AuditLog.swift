import Platform

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
/// Records are appended to the file with one `write(2)` for everything that waits, on a file opened with
/// `O_APPEND`, so concurrent sessions sharing a file never interleave inside a line. The session groups the
/// write-ahead decisions of every request it read in one go into one write (and one `fdatasync` with `fsync`),
/// and releases those requests only once `wasWritten` confirms their records. Records that could not be
/// written are dropped, never written later: a decision whose request was refused must not appear afterwards.
public final class AuditLog {
    public let path: String
    public let session: String
    public let persona: String
    public let user: String
    public var agent: AgentIdentity? {
        didSet { constantTail = nil }
    }
    private let fsync: Bool
    private let file: AuditFile
    private var nextSequence = 1
    /// Every record up to this `seq` was either written or dropped by a failed write.
    private var settledThrough = 0
    /// The `seq`s of records a failed write dropped, since the last `forgetDropped()`.
    public private(set) var dropped: [ClosedRange<Int>] = []
    /// Why the last write failed, until one succeeds.
    public private(set) var lastFailure: AuditError?
    /// Records encoded but not yet written, in raw memory (see `AuditFields`).
    private var pendingBase = malloc(AuditLog.initialCapacity)!
    private var pendingCount = 0
    private var pendingCapacity = AuditLog.initialCapacity
    private static let initialCapacity = 4096
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
        self.file = AuditFile(path: path)
        sessionField = Array(#","session":"#.utf8)
        JSONWriter.appendString(session, to: &sessionField)
        sessionField.append(contentsOf: #","seq":"#.utf8)
    }

    deinit { free(pendingBase) }

    /// Appends one record (the common fields, then `fields` in order) and writes it, with any records
    /// waiting before it, before returning: a write-ahead record is on disk (or in the kernel) when this returns.
    public func record(_ event: String, _ fields: [(String, JSONValue)] = []) throws(AuditError) {
        stage(named: event) { record in
            for (key, value) in fields { record.add(named: key, value) }
        }
        try writePending()
    }

    /// Whether the record `sequence` reached the file.
    public func wasWritten(_ sequence: Int) -> Bool {
        sequence <= settledThrough && !dropped.contains { $0.contains(sequence) }
    }

    /// Forgets which records were dropped, once whoever staged them has acted on it.
    public func forgetDropped() { dropped.removeAll() }

    /// Appends one record that waits for the next write, and returns its `seq`. Whoever must not act before the
    /// record is written asks `wasWritten` after the next `flush()`.
    @discardableResult
    public func stage(_ event: StaticString, _ fields: (inout AuditFields) -> Void) -> Int {
        // Event names are plain ASCII: quoted, not escaped.
        stage(
            event: { record in
                record.append(byte: UInt8(ascii: "\""))
                record.append(literal: event)
                record.append(byte: UInt8(ascii: "\""))
            }, fields: fields)
    }

    @discardableResult
    public func stage(named event: String, _ fields: (inout AuditFields) -> Void) -> Int {
        stage(event: { $0.appendString(event) }, fields: fields)
    }

    /// `fields` must not stage records itself: the record being built holds the buffer until it returns.
    private func stage(event: (inout AuditFields) -> Void, fields: (inout AuditFields) -> Void) -> Int {
        var record = AuditFields(base: pendingBase, count: pendingCount, capacity: pendingCapacity)
        record.append(literal: #"{"ts":""#)
        appendTimestamp(to: &record)
        record.append(byte: UInt8(ascii: "\""))
        record.append(encoded: sessionField)
        let sequence = nextSequence
        nextSequence += 1
        record.appendInteger(sequence)
        record.append(literal: #","event":"#)
        event(&record)
        record.append(encoded: constantTailBytes())
        fields(&record)
        record.append(literal: "}\n")
        pendingBase = record.base
        pendingCount = record.count
        pendingCapacity = record.capacity
        return sequence
    }

    /// Writes the records that wait, if any.
    public func flush() throws(AuditError) {
        if pendingCount > 0 { try writePending() }
    }

    public var hasPending: Bool { pendingCount > 0 }

    private func constantTailBytes() -> [UInt8] {
        if let constantTail { return constantTail }
        var tail = Array(#","agent":"#.utf8)
        JSONWriter.append(agent?.json ?? .null, to: &tail)
        tail.append(contentsOf: #","user":"#.utf8)
        JSONWriter.appendString(user, to: &tail)
        tail.append(contentsOf: #","persona":"#.utf8)
        JSONWriter.appendString(persona, to: &tail)
        constantTail = tail
        return tail
    }

    private func writePending() throws(AuditError) {
        let through = nextSequence - 1
        defer {
            pendingCount = 0
            if pendingCapacity > 1 << 16 {
                pendingBase = realloc(pendingBase, Self.initialCapacity)!
                pendingCapacity = Self.initialCapacity
            }
            settledThrough = through
        }
        do throws(AuditError) {
            try file.append(pendingBase, count: pendingCount)
            if fsync { try file.sync() }
        } catch {
            if settledThrough < through { dropped.append((settledThrough + 1)...through) }
            lastFailure = error
            throw error
        }
        lastFailure = nil
    }

    private func appendTimestamp(to record: inout AuditFields) {
        let time = Self.now()
        if cachedSecond?.seconds != time.tv_sec {
            let text = Self.timestamp(time)
            cachedSecond = (time.tv_sec, Array(text.utf8.prefix(20)))
        }
        record.append(encoded: cachedSecond!.text)
        let milliseconds = Int(time.tv_nsec / 1_000_000)
        record.reserve(4)
        record.append(byte: UInt8(ascii: "0") + UInt8(milliseconds / 100))
        record.append(byte: UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        record.append(byte: UInt8(ascii: "0") + UInt8(milliseconds % 10))
        record.append(byte: UInt8(ascii: "Z"))
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
