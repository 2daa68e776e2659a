import Platform

/// Orderly exit: answer what is owed, then take every server down, however stubborn.
extension ShimSession {
    func shutdown() {
        logger.debug("shutting down: \(stopReason)")
        core.now = monotonicNow()
        core.answerEverythingOwed()
        drainAgentOutput(for: 1.0)
        closeApprovals()
        teardownServers()
        // What the servers left in their groups, then the guardian, which has nothing left to watch.
        groups.stopLeftovers(grace: min(configuration.shutdownGrace, 1), known: [])
        groups.finish()
        core.now = monotonicNow()
        core.endSession(reason: stopReason)
    }

    /// Gives a live agent a moment to read the last answers.
    private func drainAgentOutput(for seconds: Double) {
        let deadline = monotonicNow() + nanoseconds(seconds)
        while !core.agentGone && !core.agentOutput.isEmpty && monotonicNow() < deadline {
            do {
                if try core.agentOutput.flush(to: agentOutputFD) { break }
            } catch {
                core.agentWentAway()
                break
            }
            var descriptor = pollfd(fd: agentOutputFD, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, 50)
        }
    }

    /// Every server, and every old process still retiring, goes through the teardown plan at once: stdin closed,
    /// SIGTERM to the group after the grace period, SIGKILL after another. Meanwhile their last stderr lines are
    /// forwarded and their exits recorded.
    func teardownServers() {
        let now = monotonicNow()
        for index in processes.indices {
            guard let process = processes[index] else { continue }
            flushServer(index)
            process.beginTeardown(now: now, grace: nanoseconds(configuration.shutdownGrace))
        }
        var remaining = processes.compactMap { $0 } + retiring
        processes = processes.map { _ in nil }
        retiring = []
        while !remaining.isEmpty {
            waitForOutput(of: remaining, milliseconds: 20)
            let now = monotonicNow()
            core.now = now
            remaining.removeAll { process in
                if let status = process.reap() {
                    core.serverExited(process.server, status: status, current: !process.isRetired)
                }
                guard process.advanceTeardown(now: now, logger: logger) else { return false }
                process.closeAll()
                return true
            }
        }
    }

    /// Waits up to `milliseconds` for output from the given processes, forwarding stderr and discarding the rest.
    private func waitForOutput(of processes: [ServerProcess], milliseconds: Int32) {
        var fds: [pollfd] = []
        if let signalPipe { fds.append(pollfd(fd: signalPipe.readFD, events: Int16(POLLIN), revents: 0)) }
        for process in processes {
            for fd in [process.stdoutFD, process.stderrFD] where fd >= 0 {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
        }
        _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), milliseconds) }
        _ = signalPipe?.drain()
        for process in processes {
            if process.stderrFD >= 0 { readServerErrors(process) }
            if process.stdoutFD >= 0 { process.discardOutput() }
        }
    }
}
