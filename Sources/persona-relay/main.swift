// persona-relay: the physical reference in persona-shim's benchmark.
//
// `persona-relay COMMAND ARGS...` starts COMMAND with pipes on its stdin and stdout (stderr is inherited) and copies
// bytes both ways with blocking read()/write() loops on two threads, never looking at them. At the end of its own
// input it closes the child's stdin; when the child's output ends it waits for the child and exits with its status
// (128 + N when signal N killed it). Whatever the relay costs is what any stdio proxy costs at the very least.

import Platform

/// Bytes moved per read(); a pipe rarely holds more.
let chunkSize = 64 * 1024

/// Copies `source` to `target` until end of input or a read error; returns false when a write failed.
func pump(from source: Int32, to target: Int32) -> Bool {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let count = read(source, buffer, chunkSize)
        if count == 0 {
            return true
        }
        if count < 0 {
            if errno == EINTR { continue }
            return true
        }
        var offset = 0
        while offset < count {
            let written = write(target, buffer + offset, count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
    }
}

/// Waits for `pid` and turns its status into an exit code the way a shell does.
func exitCode(of pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return 1 }
    }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// Writes a message to stderr (fd 2) with one write().
func complain(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.append(0x0A)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The output thread: copies the child's stdout to ours, then waits for the child and exits with its status.
///
/// `raw` points to [child's stdout, child pid]. A named function, not a closure: closures in top-level code belong
/// to the main actor, and this runs on a thread of its own.
func copyOutput(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let values = raw!.assumingMemoryBound(to: Int32.self)
    let pid = values[1]
    if !pump(from: values[0], to: 1) {
        // Nobody reads our output any more: the child cannot be served, so stop it.
        kill(pid, SIGTERM)
    }
    exit(exitCode(of: pid))
}

/// Creates a pipe whose two ends are closed on exec (the child gets its copies through dup2).
func makePipe() -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else {
        complain("persona-relay: pipe: \(String(cString: strerror(errno)))")
        exit(71)
    }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return (ends[0], ends[1])
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    complain("usage: persona-relay COMMAND [ARGS...]")
    exit(64)
}

let toChild = makePipe()
let fromChild = makePipe()
var actions = posix_spawn_file_actions_t()
posix_spawn_file_actions_init(&actions)
posix_spawn_file_actions_adddup2(&actions, toChild.read, 0)
posix_spawn_file_actions_adddup2(&actions, fromChild.write, 1)
let argv: [UnsafeMutablePointer<CChar>?] = arguments.dropFirst().map { strdup($0) } + [nil]
var child: pid_t = 0
let spawnStatus = posix_spawnp(&child, argv[0]!, &actions, nil, argv, OS.environment)
guard spawnStatus == 0 else {
    complain("persona-relay: cannot start \(arguments[1]): \(String(cString: strerror(spawnStatus)))")
    exit(127)
}
close(toChild.read)
close(fromChild.write)
// Only now: an ignored SIGPIPE would survive the child's exec.
signal(SIGPIPE, SIG_IGN)

// What the output thread needs, passed through pthread_create's context pointer.
let context = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
context[0] = fromChild.read
context[1] = child

var outputThread = pthread_t()
let threadStatus = pthread_create(&outputThread, nil, copyOutput, context)
guard threadStatus == 0 else {
    complain("persona-relay: cannot start a thread: \(String(cString: strerror(threadStatus)))")
    kill(child, SIGTERM)
    exit(71)
}

_ = pump(from: 0, to: toChild.write)
close(toChild.write)
// The output thread exits the process once the child's output ends.
pthread_join(outputThread, nil)
