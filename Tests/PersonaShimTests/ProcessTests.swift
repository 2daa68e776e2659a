import Glibc
import PersonaShim
import Testing

// Swift Testing has its own ExitStatus (for exit tests), so ours is spelled PersonaShim.ExitStatus where a type is
// named.

// MARK: - Pure logic

@Suite struct ChildEnvironmentAndResolverTests {
    @Test func inheritedKeysMatchTheSDKs() {
        #expect(ChildEnvironment.inheritedKeys == ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"])
    }

    @Test func buildKeepsOnlyInheritedKeysAndLetsDeclaredWin() {
        let parent = ["HOME": "/home/u", "PATH": "/usr/bin", "SECRET_TOKEN": "hunter2", "LANG": "C.UTF-8"]
        let built = ChildEnvironment.build(parent: parent, declared: ["PATH": "/opt/bin", "API_KEY": "k"])
        #expect(built == ["HOME": "/home/u", "PATH": "/opt/bin", "API_KEY": "k"])
    }

    @Test func resolverSearchesPathInOrderAndSkipsUnexecutableFiles() throws {
        let first = try TempDirectory()
        defer { first.remove() }
        let second = try TempDirectory()
        defer { second.remove() }
        try first.write("tool", "not a program", mode: 0o644)
        try second.write("tool", "#!/bin/sh\n", mode: 0o755)
        let searchPath = "/nonexistent-persona-shim:\(first.path):\(second.path)"
        #expect(
            ExecutableResolver.resolve("tool", searchPath: searchPath, workingDirectory: nil)
                == "\(second.path)/tool")
        #expect(
            ExecutableResolver.resolve("sh", searchPath: "/nonexistent-persona-shim:/bin", workingDirectory: nil)
                == "/bin/sh")
    }

    @Test func resolverReturnsNilForMissingOrUnexecutableCommands() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("data", "x", mode: 0o644)
        #expect(
            ExecutableResolver.resolve("persona-shim-missing", searchPath: "/bin:/usr/bin", workingDirectory: nil)
                == nil)
        #expect(ExecutableResolver.resolve("data", searchPath: directory.path, workingDirectory: nil) == nil)
        #expect(ExecutableResolver.resolve("\(directory.path)/data", searchPath: "", workingDirectory: nil) == nil)
        // A directory is never a command, even though it has x bits.
        #expect(ExecutableResolver.resolve("tmp", searchPath: "/", workingDirectory: nil) == nil)
    }

    @Test func resolverResolvesRelativePathsAgainstTheWorkingDirectory() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("run.sh", "#!/bin/sh\n", mode: 0o755)
        #expect(
            ExecutableResolver.resolve("./run.sh", searchPath: "/bin", workingDirectory: directory.path)
                == "\(directory.path)/./run.sh")
        #expect(ExecutableResolver.resolve("/bin/sh", searchPath: "", workingDirectory: directory.path) == "/bin/sh")
    }

    @Test func spawnErrorDescriptionsAreSentences() {
        let onPath = SpawnError(executable: "foo", errno: ENOENT, searchPath: "/usr/bin:/bin")
        #expect(
            onPath.description
                == "could not start \"foo\": No such file or directory (looked in PATH /usr/bin:/bin). "
                + "Check the server's \"command\".")
        let byPath = SpawnError(executable: "./foo", errno: EACCES)
        #expect(byPath.description == "could not start \"./foo\": Permission denied. Check the server's \"command\".")
        let exhausted = SpawnError(executable: "foo", errno: EMFILE)
        #expect(exhausted.description == "could not start \"foo\": Too many open files.")
        let directory = SpawnError(executable: "foo", errno: ENOENT, unusableWorkingDirectory: "/gone")
        #expect(
            directory.description
                == "could not start \"foo\": its working directory \"/gone\" is not usable (No such file or directory). "
                + "Check the server's working directory.")
    }

    @Test func exitStatusAndSystemErrorDescriptions() {
        #expect(PersonaShim.ExitStatus.exited(3).description == "exited with code 3")
        #expect(PersonaShim.ExitStatus.signaled(9).description == "was killed by signal 9 (SIGKILL)")
        #expect(PersonaShim.ExitStatus.signaled(15).description == "was killed by signal 15 (SIGTERM)")
        #expect(SystemError(call: "write", errno: EPIPE).description == "write failed: Broken pipe (EPIPE).")
    }

    @Test func fdReadAndWriteReportWouldBlockAndEOF() throws {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        defer { FD.close(fds[0]); FD.close(fds[1]) }
        try FD.setNonBlocking(fds[0])
        try FD.setNonBlocking(fds[1])
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try FD.read(fds[0], into: $0) } == nil)

        let chunk = [UInt8](repeating: 7, count: 4096)
        var written = 0
        while let count = try chunk.withUnsafeBytes({ try FD.write(fds[1], $0) }) {
            written += count
            try #require(written < 16 << 20, "a pipe never reported EAGAIN")
        }
        #expect(written >= 4096)

        FD.close(fds[1])
        fds[1] = -1
        var drained = 0
        var big = [UInt8](repeating: 0, count: 65536)
        while let count = try big.withUnsafeMutableBytes({ try FD.read(fds[0], into: $0) }), count > 0 {
            drained += count
        }
        #expect(drained == written)
        #expect(try big.withUnsafeMutableBytes { try FD.read(fds[0], into: $0) } == 0)
        #expect(throws: SystemError(call: "read", errno: EBADF)) {
            try big.withUnsafeMutableBytes { try FD.read(-1, into: $0) }
        }
    }
}

// MARK: - Real processes

@Suite(.serialized) struct ProcessTests {
    @Test func childLeadsItsOwnProcessGroup() throws {
        let child = try OwnedChild(shell: "echo $$; ps -o pgid= -p $$")
        defer { child.cleanup() }
        let output = try #require(child.readStdout())
        let numbers = output.split(separator: "\n").map { $0.trimmingSpaces() }
        #expect(numbers == ["\(child.pid)", "\(child.pid)"])
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func environmentIsOnlyTheBaseKeysPlusDeclared() throws {
        let parent = ["HOME": "/home/u", "PATH": "/usr/bin:/bin", "USER": "u", "SECRET_TOKEN": "hunter2"]
        let environment = ChildEnvironment.build(parent: parent, declared: ["API_KEY": "k=v"])
        let child = try OwnedChild(ChildCommand(executable: "/usr/bin/env"), environment: environment)
        defer { child.cleanup() }
        let output = try #require(child.readStdout())
        var seen: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            seen[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        #expect(seen == ["HOME": "/home/u", "PATH": "/usr/bin:/bin", "USER": "u", "API_KEY": "k=v"])
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func argumentsArrivePassedVerbatim() throws {
        let script = #"printf '%s|' "$0" "$@""#
        let command = ChildCommand(executable: "sh", arguments: ["-c", script, "zero", "a b", "", "$HOME"])
        let child = try OwnedChild(command)
        defer { child.cleanup() }
        #expect(child.readStdout() == "zero|a b||$HOME|")
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func workingDirectoryIsHonouredForTheChildAndARelativeCommand() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("where.sh", "#!/bin/sh\npwd -P\n", mode: 0o755)
        let child = try OwnedChild(ChildCommand(executable: "./where.sh", workingDirectory: directory.path))
        defer { child.cleanup() }
        #expect(child.readStdout() == directory.realPath + "\n")
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func childSeesOnlyItsThreeStandardDescriptors() throws {
        // Not O_CLOEXEC, so only the explicit close in the child keeps it out.
        let leaked = open("/dev/null", O_RDONLY)
        try #require(leaked >= 0)
        defer { FD.close(leaked) }
        let child = try OwnedChild(ChildCommand(executable: "ls", arguments: ["/proc/self/fd"]))
        defer { child.cleanup() }
        let entries = try #require(child.readStdout()).split(separator: "\n").map(String.init)
        // 3 is the directory ls itself opened to list.
        #expect(entries == ["0", "1", "2", "3"])
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func childStartsWithDefaultSignalsAndAnEmptyMask() throws {
        _ = try SignalPipe.install()  // the parent now ignores SIGPIPE, which must not reach the child
        var blockUSR1 = sigset_t()
        sigemptyset(&blockUSR1)
        sigaddset(&blockUSR1, SIGUSR1)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blockUSR1, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        #expect(signalMask(named: "SigIgn", pid: getpid()) & (1 << (SIGPIPE - 1)) != 0)

        let grep = ChildCommand(executable: "grep", arguments: ["-E", "^Sig(Blk|Ign):", "/proc/self/status"])
        let child = try OwnedChild(grep)
        defer { child.cleanup() }
        let lines = try #require(child.readStdout()).split(separator: "\n").map { $0.replacingTabs() }
        #expect(lines == ["SigBlk: 0000000000000000", "SigIgn: 0000000000000000"])
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func parentEndsAreCloseOnExecAndNonBlocking() throws {
        let child = try OwnedChild(ChildCommand(executable: "/bin/cat"))
        defer { child.cleanup() }
        for fd in [child.child.stdin, child.child.stdout, child.child.stderr] {
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        }
    }

    @Test func missingCommandOnPathThrowsENOENTWithoutLeakingDescriptors() throws {
        let pipesBefore = openPipeDescriptors()
        let error = #expect(throws: SpawnError.self) {
            _ = try ChildSpawner.spawn(
                ChildCommand(executable: "persona-shim-missing"), environment: ["PATH": "/usr/bin:/bin"])
        }
        #expect(error?.errno == ENOENT)
        #expect(error?.searchPath == "/usr/bin:/bin")
        #expect(pipesSettle(to: pipesBefore))
    }

    @Test func missingExecutablePathThrowsENOENTAndLeavesNoZombie() throws {
        let pipesBefore = openPipeDescriptors()
        let error = #expect(throws: SpawnError.self) {
            _ = try ChildSpawner.spawn(
                ChildCommand(executable: "/nonexistent-persona-shim/server"), environment: testEnvironment)
        }
        #expect(error?.errno == ENOENT)
        #expect(error?.searchPath == nil)
        #expect(zombieChildren() == [])
        #expect(pipesSettle(to: pipesBefore))
    }

    @Test func nonExecutableFileThrowsEACCES() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("server.js", "console.log(1)\n", mode: 0o644)
        let byPath = #expect(throws: SpawnError.self) {
            _ = try ChildSpawner.spawn(
                ChildCommand(executable: "\(directory.path)/server.js"), environment: testEnvironment)
        }
        #expect(byPath?.errno == EACCES)
        let onPath = #expect(throws: SpawnError.self) {
            _ = try ChildSpawner.spawn(ChildCommand(executable: "server.js"), environment: ["PATH": directory.path])
        }
        #expect(onPath?.errno == EACCES)
        #expect(zombieChildren() == [])
    }

    @Test func unusableWorkingDirectoryIsBlamedInsteadOfTheCommand() throws {
        let error = #expect(throws: SpawnError.self) {
            _ = try ChildSpawner.spawn(
                ChildCommand(executable: "/bin/sh", workingDirectory: "/nonexistent-persona-shim"),
                environment: testEnvironment)
        }
        #expect(error?.errno == ENOENT)
        #expect(error?.unusableWorkingDirectory == "/nonexistent-persona-shim")
        #expect(zombieChildren() == [])
    }

    @Test func closingStdinMakesCatExit() throws {
        let child = try OwnedChild(ChildCommand(executable: "/bin/cat"))
        defer { child.cleanup() }
        let message = Array("hello\n".utf8)
        #expect(try message.withUnsafeBytes { try FD.write(child.child.stdin, $0) } == message.count)
        #expect(child.readLine(from: child.child.stdout) == "hello")
        #expect(Reaper.poll(child.pid) == nil)
        child.closeStdin()
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func groupSignalReachesAGrandchild() throws {
        let child = try OwnedChild(shell: "sleep 1000 & echo $!; wait")
        defer { child.cleanup() }
        let grandchild = try #require(child.readLine(from: child.child.stdout).flatMap { pid_t($0) })
        child.grandchildren.append(grandchild)
        #expect(isAlive(grandchild))
        #expect(processStat(grandchild)?.pgrp == child.pid)

        ProcessGroup.signal(child.pid, SIGTERM)
        #expect(child.waitForExit() == .signaled(SIGTERM))
        // Orphaned, the grandchild is reaped by init, not by us; dead (zombie) or gone both prove the signal arrived.
        #expect(eventually { !isAlive(grandchild) })
    }

    @Test func sigkillEndsAChildThatIgnoresSIGTERM() throws {
        let child = try OwnedChild(shell: #"trap "" TERM; sleep 1000 & echo $!; wait"#)
        defer { child.cleanup() }
        let grandchild = try #require(child.readLine(from: child.child.stdout).flatMap { pid_t($0) })
        child.grandchildren.append(grandchild)

        ProcessGroup.signal(child.pid, SIGTERM)
        usleep(300_000)
        #expect(Reaper.poll(child.pid) == nil)
        #expect(isAlive(grandchild))
        #expect(ProcessGroup.exists(child.pid))

        ProcessGroup.signal(child.pid, SIGKILL)
        #expect(child.waitForExit() == .signaled(SIGKILL))
        #expect(eventually { !isAlive(grandchild) })
    }

    @Test func outputLargerThanThePipeBufferIsReadWhileTheChildRuns() throws {
        let count = 100_000
        let child = try OwnedChild(ChildCommand(executable: "seq", arguments: ["1", "\(count)"]))
        defer { child.cleanup() }
        let expectedBytes = (1...count).reduce(0) { $0 + String($1).utf8.count + 1 }
        #expect(expectedBytes > 64 * 1024)
        let output = try #require(child.readStdout(timeout: .seconds(30)))
        #expect(output.utf8.count == expectedBytes)
        #expect(output.hasSuffix("\n99999\n100000\n"))
        #expect(child.waitForExit() == .exited(0))
    }

    @Test func signalPipeReportsSIGCHLDWhenAChildExits() throws {
        let signals = try SignalPipe.install()
        #expect(try SignalPipe.install() === signals)
        _ = signals.drain()
        let child = try OwnedChild(shell: "exit 7")
        defer { child.cleanup() }
        var received: [Int32] = []
        let sawChild = eventually {
            var descriptor = pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 100)
            received += signals.drain()
            return received.contains(SIGCHLD)
        }
        #expect(sawChild)
        #expect(child.waitForExit() == .exited(7))
    }

    @Test func writingToAnExitedChildThrowsEPIPEInsteadOfKilling() throws {
        _ = try SignalPipe.install()
        let child = try OwnedChild(shell: "exit 0")
        defer { child.cleanup() }
        #expect(child.waitForExit() == .exited(0))
        let bytes = Array("{}\n".utf8)
        #expect(throws: SystemError(call: "write", errno: EPIPE)) {
            _ = try bytes.withUnsafeBytes { try FD.write(child.child.stdin, $0) }
        }
        // Still here: SIGPIPE was ignored.
        #expect(ProcessGroup.exists(child.pid) == false)
    }
}

// MARK: - Helpers

// Private: the test target is shared with other files, whose helpers must not collide with these.

/// Small enough for PATH lookups, fixed so the tests do not depend on the runner's environment.
let testEnvironment = ["PATH": "/usr/bin:/bin"]

/// A child the test owns: cleanup() closes its pipes and kills and reaps its whole group, whatever the test did.
final class OwnedChild {
    let child: SpawnedChild
    private(set) var status: PersonaShim.ExitStatus?
    private var stdinOpen = true
    /// Grandchildren the test learned about, killed by pid too in case the group signal cannot reach them.
    var grandchildren: [pid_t] = []
    var pid: pid_t { child.pid }

    init(_ command: ChildCommand, environment: [String: String] = testEnvironment) throws {
        child = try ChildSpawner.spawn(command, environment: environment)
    }

    convenience init(shell script: String) throws {
        try self.init(ChildCommand(executable: "/bin/sh", arguments: ["-c", script]))
    }

    func closeStdin() {
        if stdinOpen {
            FD.close(child.stdin)
            stdinOpen = false
        }
    }

    /// Polls rather than blocks, so a broken test fails instead of hanging.
    func waitForExit(timeout: Duration = .seconds(10)) -> PersonaShim.ExitStatus? {
        if status == nil {
            _ = eventually(timeout: timeout) {
                status = Reaper.poll(pid)
                return status != nil
            }
        }
        return status
    }

    func cleanup() {
        closeStdin()
        FD.close(child.stdout)
        FD.close(child.stderr)
        // Once the leader is reaped its pgid stays reserved only while grandchildren remain, so this cannot hit an
        // unrelated group.
        if status == nil || ProcessGroup.exists(pid) {
            ProcessGroup.signal(pid, SIGKILL)
        }
        if status == nil {
            // Directly too: if the child never got its own group, the group signal missed it and the wait would hang.
            kill(pid, SIGKILL)
            status = Reaper.wait(pid)
        }
        for grandchild in grandchildren where isAlive(grandchild) {
            kill(grandchild, SIGKILL)
        }
    }

    /// Everything the child writes to stdout until EOF, or nil on timeout.
    func readStdout(timeout: Duration = .seconds(10)) -> String? {
        var collected: [UInt8] = []
        let sawEOF = readUntil(child.stdout, timeout: timeout) { chunk in
            guard let chunk else { return true }
            collected += chunk
            return false
        }
        return sawEOF ? String(decoding: collected, as: UTF8.self) : nil
    }

    /// The first line on `fd`, without its newline, or nil on EOF or timeout.
    func readLine(from fd: Int32, timeout: Duration = .seconds(10)) -> String? {
        var collected: [UInt8] = []
        var line: String?
        _ = readUntil(fd, timeout: timeout) { chunk in
            guard let chunk else { return true }
            collected += chunk
            if let newline = collected.firstIndex(of: UInt8(ascii: "\n")) {
                line = String(decoding: collected[..<newline], as: UTF8.self)
                return true
            }
            return false
        }
        return line
    }

    /// Feeds chunks (nil for EOF) to `done` until it returns true; false on timeout or read error.
    private func readUntil(_ fd: Int32, timeout: Duration, _ done: ([UInt8]?) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 16384)
        while ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 50)
            do {
                guard let count = try buffer.withUnsafeMutableBytes({ try FD.read(fd, into: $0) }) else { continue }
                if done(count == 0 ? nil : Array(buffer[..<count])) {
                    return true
                }
            } catch {
                return false
            }
        }
        return false
    }
}

/// Retries `condition` every 20 ms until it holds or `timeout` passes.
private func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if condition() {
            return true
        }
        if ContinuousClock.now >= deadline {
            return false
        }
        usleep(20_000)
    }
}

/// State letter and process group of `pid` from /proc/<pid>/stat, or nil once it is gone.
private func processStat(_ pid: pid_t) -> (state: Character, ppid: pid_t, pgrp: pid_t)? {
    guard let text = readTextFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    // The command name may contain spaces and parentheses; the fields after its last ")" do not.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 3, let state = fields[0].first, let ppid = pid_t(fields[1]), let pgrp = pid_t(fields[2])
    else { return nil }
    return (state, ppid, pgrp)
}

/// True while `pid` runs: present in /proc and not a zombie (Z) or dead (X).
private func isAlive(_ pid: pid_t) -> Bool {
    guard let state = processStat(pid)?.state else { return false }
    return state != "Z" && state != "X"
}

/// Zombie children of the test process that are forks of it whose exec failed (they still carry its name): a child
/// the spawner failed to reap would show up here. Other tests run alongside, and the test process may adopt their
/// orphans (a test makes it a subreaper): those carry their own program's name and are not this spawner's.
private func zombieChildren() -> [pid_t] {
    let me = getpid()
    let myName = readTextFile("/proc/self/comm")
    return listDirectory("/proc").compactMap { pid_t($0) }.filter { pid in
        guard let stat = processStat(pid), stat.ppid == me, stat.state == "Z" else { return false }
        return readTextFile("/proc/\(pid)/comm") == myName
    }
}

/// No pipe is open that was not open before, once pipes other tests open and close alongside have settled: a pipe
/// the spawner leaked stays, and the check still fails after the wait.
private func pipesSettle(to before: Set<String>) -> Bool {
    for _ in 0..<100 {
        if openPipeDescriptors().isSubset(of: before) { return true }
        usleep(20_000)
    }
    return openPipeDescriptors().isSubset(of: before)
}

/// The test process's descriptors that are pipes, to catch a spawn path that forgets to close one.
private func openPipeDescriptors() -> Set<String> {
    Set(
        listDirectory("/proc/self/fd").filter { name in
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            guard length > 0 else { return false }
            return String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("pipe:")
        })
}

/// A mask line such as "SigIgn:\t0000000000001000" from /proc/<pid>/status.
private func signalMask(named name: String, pid: pid_t) -> UInt64 {
    let text = readTextFile("/proc/\(pid)/status") ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
        return UInt64(line.dropFirst(name.count + 1).trimmingSpaces(), radix: 16) ?? 0
    }
    return 0
}

private func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { FD.close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { break }
        bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func listDirectory(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." {
            names.append(name)
        }
    }
    return names
}

/// A mkdtemp directory holding only files written through it.
private struct TempDirectory {
    let path: String
    private let files = FileList()

    init() throws {
        var template = Array("/tmp/persona-shim-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", errno: errno) }
        path = String(cString: made)
    }

    var realPath: String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    func write(_ name: String, _ contents: String, mode: mode_t) throws {
        let filePath = "\(path)/\(name)"
        let fd = open(filePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError(call: "open", errno: errno) }
        files.names.append(filePath)
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        FD.close(fd)
        // open() applies the umask; the tests need the exact bits.
        guard chmod(filePath, mode) == 0 else { throw SystemError(call: "chmod", errno: errno) }
    }

    func remove() {
        files.names.forEach { unlink($0) }
        rmdir(path)
    }

    private final class FileList {
        var names: [String] = []
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    func replacingTabs() -> String {
        String(map { $0 == "\t" ? " " : $0 })
    }
}
