import Platform

/// The servers' side of the shell: their processes, reading their output into the core, writing the core's
/// requests to them, and carrying out what the core asks (start, stop, restart).
extension ShimSession {
    func performActions() {
        var actions = core.takeActions()
        while !actions.isEmpty {
            for action in actions {
                switch action {
                case .start(let server): startServer(server)
                case .stop(let server): stopServer(server)
                case .restart(let server): restartServer(server)
                case .askOutOfBand(let question): askOutOfBand(question)
                case .withdrawQuestion(let id): withdrawQuestion(id)
                }
            }
            actions = core.takeActions()
        }
    }

    private func startServer(_ index: Int) {
        guard processes[index] == nil else { return }
        switch launcher.launch(core.servers[index].spec, index: index, groups: groups) {
        case .started(let process, let command):
            processes[index] = process
            core.serverStarted(index, pid: process.pid, command: command)
        case .failed(let reason, let transient):
            core.serverFailedToStart(index, reason: reason, transient: transient)
        }
    }

    /// The core gave up on the server: it is taken down (stdin is already of no use, so SIGTERM comes at once)
    /// and moves to the retiring list, where its teardown finishes without holding up anything else.
    private func stopServer(_ index: Int) {
        retire(index)
    }

    /// Whatever is left of the old process group is taken down, and the server starts afresh.
    private func restartServer(_ index: Int) {
        retire(index)
        core.serverRestarting(index)
    }

    /// Takes the server's current process out of service and begins its teardown at SIGTERM (its stdin is of no
    /// more use); the teardown goes on without holding anything up.
    private func retire(_ index: Int) {
        guard let process = processes[index] else { return }
        processes[index] = nil
        process.isRetired = true
        process.beginTeardown(now: core.now, grace: nanoseconds(configuration.shutdownGrace), skipGrace: true)
        process.closeOutput()
        if process.stderrFD >= 0 { readServerErrors(process) }
        retiring.append(process)
        advanceRetiring()
    }

    /// Moves retiring processes' teardowns along; forgets those whose group is gone.
    func advanceRetiring() {
        guard !retiring.isEmpty else { return }
        retiring.removeAll { process in
            if let status = process.reap() { core.serverExited(process.server, status: status, current: false) }
            guard process.advanceTeardown(now: monotonicNow(), logger: logger) else { return false }
            process.closeAll()
            return true
        }
    }

    /// Writes what the core queued for server `index`, once the audit records covering it are on file.
    func flushServer(_ index: Int) {
        guard let process = processes[index], process.stdinFD >= 0 else { return }
        let output = core.output(for: index)
        guard !output.isEmpty else { return }
        do {
            _ = try output.flush(to: process.stdinFD)
        } catch {
            logger.warning("[\(process.name)] cannot write to the server: \(error)")
            process.closeInput()
            core.serverInputClosed(index)
        }
    }

    /// Reads a server's output and hands its lines to the core. `budget` bounds the reads, and `lineBudget` the
    /// lines handled, per turn of the loop: lines beyond stay buffered for the next turn (`hasBacklog`), so one
    /// flooding server cannot hold up the others or the agent.
    func readServerOutput(_ process: ServerProcess, budget: Int = 4, lineBudget: Int = ShimSession.lineBudget) {
        var budget = budget
        var lines = 0
        while true {
            while let event = process.stdout.next() {
                lines += 1
                if lines % SessionCore.releaseGroup == 0 { flushAgent() }
                switch event {
                case .line(let range):
                    core.handleServerLine(process.server, from: process.stdout, range)
                case .oversized(let bytes):
                    core.serverLineTooLong(process.server, bytes: bytes, prefix: process.stdout.discardedPrefix)
                }
                guard processes[process.server] === process else { return }
                if lines >= lineBudget {
                    process.hasBacklog = process.stdout.hasCompleteLine
                    if process.hasBacklog { return }
                }
            }
            process.hasBacklog = false
            guard budget > 0 && process.stdoutFD >= 0 else { return }
            budget -= 1
            let result: LineReader.FillResult
            do {
                result = try process.stdout.fill(from: process.stdoutFD)
            } catch {
                result = .endOfFile
            }
            switch result {
            case .wouldBlock: return
            case .endOfFile:
                process.stdout.finishInput()
                while let event = process.stdout.next() {
                    if case .line(let range) = event {
                        core.handleServerLine(process.server, from: process.stdout, range)
                    }
                }
                serverOutputEnded(process)
                return
            case .data:
                // A short read most likely emptied the pipe: handle what came, and read again next turn.
                if process.stdout.lastReadWasShort && budget < 1 << 20 { budget = 0 }
            }
        }
    }

    /// Lines a server may have handled per turn of the loop before the others get theirs.
    static let lineBudget = 256

    /// Handles lines left buffered by a turn that ran out of line budget.
    func drainBacklogs() {
        for case let process? in processes where process.hasBacklog { readServerOutput(process, budget: 0) }
    }

    func readServerErrors(_ process: ServerProcess) {
        var budget = 16
        while budget > 0 && process.stderrFD >= 0 {
            budget -= 1
            let result = (try? process.stderr.fill(from: process.stderrFD)) ?? .endOfFile
            while let event = process.stderr.next() {
                switch event {
                case .line(let range):
                    let text = String(decoding: process.stderr.bytes[range], as: UTF8.self)
                    Logger.writeLine("[\(process.name)] \(core.maskedLogText(text))")
                case .oversized(let bytes):
                    Logger.writeLine("[\(process.name)] (\(bytes) bytes of output on one line, not shown)")
                }
            }
            switch result {
            case .wouldBlock: return
            case .endOfFile:
                FD.close(process.stderrFD)
                process.stderrFD = -1
            case .data: continue
            }
        }
    }

    /// The server's output ended: it can no longer answer. Output closes as the process exits, a moment before
    /// its status can be collected, so the departure is reported when SIGCHLD arrives (or after a second).
    private func serverOutputEnded(_ process: ServerProcess) {
        process.closeOutput()
        if let status = process.reap() { core.serverExited(process.server, status: status) }
        if process.isRunning {
            process.departureDeadline = core.now + 1_000_000_000
        } else {
            serverDeparted(process)
        }
    }

    /// Tells the core the server is gone, and keeps what is left of its group for the teardown.
    func serverDeparted(_ process: ServerProcess) {
        process.departureDeadline = nil
        guard processes[process.server] === process else { return }
        core.serverDisconnected(process.server)
        retire(process.server)
        performActions()
    }

    func reapServers() {
        for case let process? in processes where process.isRunning {
            guard let status = process.reap() else { continue }
            core.serverExited(process.server, status: status)
            // Read what it wrote before it exited: its last answers count.
            if process.stdoutFD >= 0 { readServerOutput(process, budget: .max, lineBudget: .max) }
            if processes[process.server] === process { serverDeparted(process) }
        }
        for process in retiring where process.isRunning {
            if let status = process.reap() { core.serverExited(process.server, status: status, current: false) }
        }
        // Grandchildren a server left behind were reparented to the shim (a subreaper): no zombies.
        let running = (processes.compactMap { $0 } + retiring).filter(\.isRunning).map(\.pid) + approvalCommandPIDs
        groups.reapOrphans(known: running)
    }
}
