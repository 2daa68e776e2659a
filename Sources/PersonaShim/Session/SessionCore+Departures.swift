/// Servers that exit, close their output, or are restarted.
extension SessionCore {
    /// The shell collected the exit status of a process of server `index`: its current process, or an old one
    /// being taken down after the server failed or was restarted (which changes nothing but the audit trail).
    /// The shell reports each process's exit once.
    func serverExited(_ index: Int, status: ExitStatus, current: Bool = true) {
        let server = servers[index]
        if current {
            server.isRunning = false
            server.exitStatus = status
        }
        var fields: [(String, JSONValue)] = [("server", .string(server.name)), ("status", .string("\(status)"))]
        switch status {
        case .exited(let code): fields.append(("exitCode", .integer(Int(code))))
        case .signaled(let signal): fields.append(("signal", .integer(Int(signal))))
        }
        if stopping { fields.append(("reason", "shutdown")) }
        recordLifecycle(.serverExit, fields)
    }

    /// Server `index` can no longer answer: its output ended, and its exit was reported (or could not be collected
    /// within a second).
    func serverDisconnected(_ index: Int) {
        let server = servers[index]
        let description = server.exitStatus.map { "\($0)" } ?? "closed its output"
        if server.phase == .ready || server.phase == .listing || server.phase == .initializing {
            serverFailed(server, reason: description, restartable: !server.stoppedByShim)
        } else {
            server.inputOpen = false
            server.input.discardAll()
        }
    }

    /// Restarts a crashed server after 1 s, 2 s, 4 s … (at most 30 s), as its `RestartPolicy` says; gives up after
    /// too many a minute, or too many failures in a row before it ever became ready.
    func scheduleRestart(_ server: Server, wasReady: Bool) {
        switch server.restartPolicy.decide(now: now, wasReady: wasReady) {
        case .giveUp(let why):
            logger.error("[\(server.name)] \(why); not restarting it")
            recordLifecycle(
                .serverRestart,
                [
                    ("server", .string(server.name)), ("decision", "give-up"),
                    ("restarts", .integer(server.restartPolicy.attempts)), ("reason", .string(why)),
                ])
        case .restart(let delay):
            server.restartAt = now + nanoseconds(delay)
            logger.info("[\(server.name)] restarting in \(formatSeconds(delay)) s")
        }
    }

    /// The shell took the old process down: record the restart and start again.
    func serverRestarting(_ index: Int) {
        let server = servers[index]
        server.restartPolicy.attempted(now: now)
        recordLifecycle(
            .serverRestart,
            [("server", .string(server.name)), ("attempt", .integer(server.restartPolicy.attempts))])
        server.resetForRestart()
        perform(.start(server: index))
    }
}
