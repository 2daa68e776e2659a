// One measured process: spawned with ChildSpawner, spoken to over blocking pipes.

import Foundation
import MCPWire
import PersonaShim
import Platform
import Synchronization

/// Something that did not work: a process that would not start, a request left unanswered, an error answer.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A process under measurement and the client's two pipes to it.
///
/// Owned by one thread; the pipelined phase lends `input` to a writer thread for its duration.
final class Peer {
    /// What the tables call it, e.g. "relay".
    let name: String
    let pid: pid_t
    /// Write end of its stdin (blocking).
    let input: Int32
    /// Its stdout, split into lines.
    let output: LineSplitter
    /// When spawning began, for time-to-initialize.
    let spawnedAt: UInt64
    /// The next JSON-RPC id to use.
    var nextID = 1
    private let outputFD: Int32
    private let errors: ErrorTail
    private var inputClosed = false
    private var finished = false

    init(name: String, executable: String, arguments: [String]) throws(BenchFailure) {
        self.name = name
        let environment = ChildEnvironment.build(parent: ProcessInfo.processInfo.environment, declared: [:])
        spawnedAt = monotonicNanoseconds()
        let child: SpawnedChild
        do {
            child = try ChildSpawner.spawn(
                ChildCommand(executable: executable, arguments: arguments), environment: environment)
        } catch {
            throw BenchFailure("\(name): \(error)")
        }
        for fd in [child.stdin, child.stdout, child.stderr] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        }
        pid = child.pid
        input = child.stdin
        output = LineSplitter(fd: child.stdout)
        outputFD = child.stdout
        errors = ErrorTail(fd: child.stderr)
    }

    deinit {
        if !finished {
            ProcessGroup.signal(pid, SIGKILL)
            _ = Reaper.wait(pid)
        }
        if !inputClosed { FD.close(input) }
        FD.close(outputFD)
    }

    /// Writes all of `bytes` to its stdin.
    func send(_ bytes: [UInt8]) throws(BenchFailure) {
        let ok = bytes.withUnsafeBytes { writeAll(input, $0) }
        guard ok else { throw BenchFailure("\(name): writing a request failed (\(String(cString: strerror(errno))))") }
    }

    /// The next line it writes; throws at end of output, naming `waitingFor` and quoting its stderr.
    func readLine(waitingFor: String) throws(BenchFailure) -> UnsafeRawBufferPointer {
        if let line = try output.next() { return line }
        var message = "\(name): no answer to \(waitingFor): "
        message += Watchdog.shared.firedFor(pid) ? "nothing came within the time limit" : "its output ended"
        if let status = exitStatus(within: 1) {
            finished = true
            message += "; it \(status)"
        }
        let tail = errors.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !tail.isEmpty {
            message +=
                "\n  its stderr ended with:\n    " + tail.split(separator: "\n").suffix(8).joined(separator: "\n    ")
        }
        throw BenchFailure(message)
    }

    /// Closes its stdin and waits up to `timeout` seconds for it to exit, then kills its process group.
    @discardableResult
    func finish(timeout: Double = 10) -> PersonaShim.ExitStatus {
        if !inputClosed {
            inputClosed = true
            FD.close(input)
        }
        if let status = exitStatus(within: timeout) {
            finished = true
            return status
        }
        ProcessGroup.signal(pid, SIGKILL)
        finished = true
        return Reaper.wait(pid)
    }

    /// Its exit status once it has exited, or nil if it is still running after `seconds`.
    private func exitStatus(within seconds: Double) -> PersonaShim.ExitStatus? {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while true {
            if let status = Reaper.poll(pid) { return status }
            guard monotonicNanoseconds() < deadline else { return nil }
            usleep(2_000)
        }
    }

    /// Its stderr so far (the last few KiB).
    var standardError: String { errors.text }
}

/// Writes all of `bytes` to a blocking descriptor; false on an error other than EINTR.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return false
        }
        offset += written
    }
    return true
}

/// Drains a child's stderr on a thread of its own and keeps its last few KiB for error messages.
final class ErrorTail: Sendable {
    private let kept = Mutex<[UInt8]>([])
    private static let limit = 8 * 1024

    init(fd: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                kept.withLock { bytes in
                    bytes += buffer[..<count]
                    if bytes.count > 2 * Self.limit { bytes.removeFirst(bytes.count - Self.limit) }
                }
            }
            FD.close(fd)
        }
        thread.start()
    }

    var text: String { kept.withLock { String(decoding: $0.suffix(Self.limit), as: UTF8.self) } }
}

/// Kills a process group that takes too long to answer, so that a lost request ends the run with a message
/// instead of hanging it: the blocked read then sees end of output.
final class Watchdog: Sendable {
    static let shared = Watchdog()

    private struct Armed {
        var pid: pid_t
        var deadline: UInt64
    }

    private let armed = Mutex<Armed?>(nil)
    private let fired = Mutex<Set<pid_t>>([])

    private init() {
        let thread = Thread { [self] in
            while true {
                usleep(50_000)
                let now = monotonicNanoseconds()
                let victim = armed.withLock { state -> pid_t? in
                    guard let current = state, now > current.deadline else { return nil }
                    state = nil
                    return current.pid
                }
                if let victim {
                    fired.withLock { _ = $0.insert(victim) }
                    ProcessGroup.signal(victim, SIGKILL)
                }
            }
        }
        thread.start()
    }

    /// Gives `pid` `seconds` to get through what follows; replaces any earlier arming.
    func arm(_ pid: pid_t, seconds: Double) {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        armed.withLock { $0 = Armed(pid: pid, deadline: deadline) }
    }

    func disarm() {
        armed.withLock { $0 = nil }
    }

    /// Whether the watchdog killed `pid`.
    func firedFor(_ pid: pid_t) -> Bool {
        fired.withLock { $0.contains(pid) }
    }
}
