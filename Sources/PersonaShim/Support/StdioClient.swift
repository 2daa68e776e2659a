import Platform
import Synchronization

/// A minimal MCP client over a child's stdin/stdout: what the demo plays the agent with, and what the
/// end-to-end tests drive the real binary with.
public final class StdioClient {
    public let pid: pid_t
    private let input: Int32
    private let output: Int32
    private let reader = LineReader(limit: 256 * 1024 * 1024)
    private var lines: [[UInt8]] = []
    private let errors: ErrorCollector
    private var status: ExitStatus?
    private var inputClosed = false
    private var outputClosed = false

    /// Starts `command` with exactly `environment`. With `drainStandardError` false nobody reads the child's
    /// stderr (to test a parent that ignores it).
    public init(_ command: ChildCommand, environment: [String: String], drainStandardError: Bool = true) throws {
        // A child that dies mid-conversation must be an EPIPE for this client, not the death of the whole process
        // driving it (a test run, the demo).
        signal(SIGPIPE, SIG_IGN)
        var command = command
        if let resolved = ExecutableResolver.resolve(
            command.executable, searchPath: environment["PATH"] ?? "/usr/bin:/bin",
            workingDirectory: command.workingDirectory)
        {
            command.executable = resolved
        }
        let child = try ChildSpawner.spawn(command, environment: environment)
        pid = child.pid
        input = child.stdin
        output = child.stdout
        errors = ErrorCollector(fd: child.stderr)
        if drainStandardError { errors.start() }
    }

    deinit {
        if status == nil {
            ProcessGroup.signal(pid, SIGKILL)
            _ = Reaper.wait(pid)
        }
        if !inputClosed { FD.close(input) }
        if !outputClosed { FD.close(output) }
    }

    /// Writes `bytes` followed by a newline (unless `newline` is false).
    public func send(_ bytes: [UInt8], newline: Bool = true) throws {
        var data = bytes
        if newline { data.append(0x0A) }
        var offset = 0
        while offset < data.count {
            let written = try data.withUnsafeBytes {
                try FD.write(input, UnsafeRawBufferPointer(rebasing: $0[offset...]))
            }
            if let written {
                offset += written
            } else {
                var descriptor = pollfd(fd: input, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 100)
            }
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Writes as much of `line` (plus a newline) as the child takes within `timeout` seconds; returns whether
    /// all of it was written. For tests of a child that stops reading.
    public func send(_ line: String, timeout: Double) -> Bool {
        let data = Array(line.utf8) + [0x0A]
        let deadline = monotonicNow() + nanoseconds(timeout)
        var offset = 0
        while offset < data.count {
            let result = data.withUnsafeBytes { raw in
                Result { () throws(SystemError) in try FD.write(input, UnsafeRawBufferPointer(rebasing: raw[offset...]))
                }
            }
            guard case .success(let written) = result else { return false }
            if let written {
                offset += written
                continue
            }
            guard monotonicNow() < deadline else { return false }
            var descriptor = pollfd(fd: input, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, 10)
        }
        return true
    }

    public func send(_ message: JSONValue) throws { try send(JSONWriter.encode(message)) }

    /// The next line the child writes, or nil at end of output or after `timeout` seconds.
    public func readLine(timeout: Double) -> [UInt8]? {
        let deadline = monotonicNow() + nanoseconds(timeout)
        while true {
            if let line = nextBufferedLine() { return line }
            let now = monotonicNow()
            guard now < deadline else { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let wait = Int32(min((deadline - now) / 1_000_000 + 1, 1000))
            guard poll(&descriptor, 1, wait) > 0 else { continue }
            guard let result = try? reader.fill(from: output) else { return nil }
            if case .endOfFile = result { return nextBufferedLine() }
        }
    }

    private func nextBufferedLine() -> [UInt8]? {
        while let event = reader.next() {
            if case .line(let range) = event { return Array(reader.bytes[range]) }
        }
        return nil
    }

    /// The next message, parsed.
    public func readMessage(timeout: Double) -> JSONValue? {
        guard let line = readLine(timeout: timeout) else { return nil }
        return try? JSONValue(parsing: line)
    }

    /// Sends a request and returns the response with the same id, collecting anything else that arrives first.
    public func request(
        _ method: String, params: JSONValue? = nil, id: JSONValue, timeout: Double = 30
    ) -> (response: JSONValue?, others: [JSONValue]) {
        var message = JSONObject([("jsonrpc", "2.0"), ("id", id), ("method", .string(method))])
        if let params { message["params"] = params }
        do { try send(.object(message)) } catch { return (nil, []) }
        var others: [JSONValue] = []
        let deadline = monotonicNow() + nanoseconds(timeout)
        while monotonicNow() < deadline {
            guard let reply = readMessage(timeout: Double(deadline - monotonicNow()) / 1e9) else { break }
            if reply["id"] == id && reply["method"] == nil { return (reply, others) }
            others.append(reply)
        }
        return (nil, others)
    }

    /// Closes the child's stdin (what a client does to ask an MCP server to exit).
    public func closeInput() {
        guard !inputClosed else { return }
        inputClosed = true
        FD.close(input)
    }

    /// Closes the reading end of the child's stdout (what a crashed client leaves behind).
    public func closeOutput() {
        guard !outputClosed else { return }
        outputClosed = true
        FD.close(output)
    }

    /// Waits for the child to exit; nil if it is still running after `timeout` seconds.
    public func waitForExit(timeout: Double) -> ExitStatus? {
        if let status { return status }
        let deadline = monotonicNow() + nanoseconds(timeout)
        while monotonicNow() < deadline {
            if let result = Reaper.poll(pid) {
                status = result
                return result
            }
            usleep(5_000)
        }
        return nil
    }

    /// Everything the child wrote to stderr so far.
    public var standardError: String { errors.text }

    /// Everything the child wrote to stderr, once stderr has closed (or after `timeout` seconds).
    public func completeStandardError(timeout: Double) -> String {
        let deadline = monotonicNow() + nanoseconds(timeout)
        while !errors.isFinished && monotonicNow() < deadline { usleep(2_000) }
        return errors.text
    }
}

/// Drains a child's stderr on a thread of its own, so a chatty child never blocks on a full pipe.
final class ErrorCollector: Sendable {
    private let fd: Int32
    private let collected = Mutex<[UInt8]>([])
    private let finished = Mutex(false)

    var isFinished: Bool { finished.withLock { $0 } }

    init(fd: Int32) {
        self.fd = fd
    }

    func start() {
        // A plain detached thread: it blocks in read(2), so it must not be a thread of the cooperative pool.
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { raw in
                let collector = Unmanaged<ErrorCollector>.fromOpaque(raw!).takeRetainedValue()
                collector.drain()
                return nil
            }, context)
        if status == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<ErrorCollector>.fromOpaque(context).release()
        }
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 1000)
            let result = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try FD.read(fd, into: raw) }
            }
            switch result {
            case .success(let read?) where read > 0:
                collected.withLock { $0.append(contentsOf: buffer[..<read]) }
            case .success(nil):
                continue
            default:
                FD.close(fd)
                finished.withLock { $0 = true }
                return
            }
        }
    }

    var text: String { collected.withLock { String(decoding: $0, as: UTF8.self) } }
}
