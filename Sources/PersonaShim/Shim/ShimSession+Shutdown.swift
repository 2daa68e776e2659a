#if canImport(Glibc)
    import Glibc
#endif

/// Orderly exit: answer what is owed, then take every server down, however stubborn.
extension ShimSession {
    func shutdown() {
        logger.debug("shutting down: \(stopReason)")
        commitAudit()
        for child in children {
            failPendingRequests(
                of: child, outcome: "shutdown",
                message: "persona-shim is shutting down; the server \(child.name) was stopped")
        }
        for line in deferredAgentLines {
            if let id = line.withUnsafeBytes({ raw in
                (try? MessageEnvelope.scan(raw, range: 0..<line.count))?.id.map { Array(raw[$0]) }
            }) {
                sendToAgent(
                    Message.error(id: id, code: JSONRPCError.requestFailed, message: "persona-shim is shutting down"))
            }
        }
        deferredAgentLines = []
        if let id = pendingInitializeID {
            pendingInitializeID = nil
            sendToAgent(
                Message.error(id: id, code: JSONRPCError.requestFailed, message: "persona-shim is shutting down"))
        }
        for fanOut in fanOuts.values {
            sendToAgent(
                Message.error(
                    id: fanOut.agentID, code: JSONRPCError.requestFailed, message: "persona-shim is shutting down"))
        }
        fanOuts = [:]
        drainAgentOutput(for: 1.0)
        teardownChildren()
        if sessionStarted {
            try? audit.record("session.end", [("reason", .string(stopReason))])
        }
        commitAudit()
    }

    /// Gives a live agent a moment to read the last answers.
    private func drainAgentOutput(for seconds: Double) {
        let deadline = monotonicNow() + nanoseconds(seconds)
        while !agentGone && !agentOutput.isEmpty && monotonicNow() < deadline {
            do {
                if try agentOutput.flush(to: agentOutputFD) { break }
            } catch {
                agentGone = true
                break
            }
            var descriptor = pollfd(fd: agentOutputFD, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, 50)
        }
    }

    /// Close stdin, wait; SIGTERM the process group, wait; SIGKILL. Then make sure no process of any
    /// server's group (grandchildren started through `sh`, `npx`, `uvx`) outlives the shim.
    func teardownChildren() {
        for child in children {
            if child.stdinFD >= 0 {
                _ = try? child.input.flush(to: child.stdinFD)
                FD.close(child.stdinFD)
                child.stdinFD = -1
            }
        }
        let grace = configuration.shutdownGrace
        waitForChildren(seconds: grace)
        for child in children where child.isRunning { processes.signal(child.pid, SIGTERM) }
        waitForChildren(seconds: grace)
        for child in children where child.isRunning {
            logger.warning("[\(child.name)] did not stop after SIGTERM; sending SIGKILL")
            processes.signal(child.pid, SIGKILL)
        }
        for child in children where child.isRunning { recordExit(child, Reaper.wait(child.pid)) }
        // The leader is gone; anything left in its group was started by it and must not be orphaned.
        processes.stopLeftovers(grace: min(grace, 1), known: [])
        processes.finish()
        for child in children {
            for fd in [child.stdoutFD, child.stderrFD] where fd >= 0 { FD.close(fd) }
            child.stdoutFD = -1
            child.stderrFD = -1
        }
    }

    /// Waits up to `seconds` for running servers to exit, forwarding their last stderr lines.
    private func waitForChildren(seconds: Double) {
        let deadline = monotonicNow() + nanoseconds(seconds)
        while children.contains(where: \.isRunning) && monotonicNow() < deadline {
            var fds: [pollfd] = []
            if let signalPipe { fds.append(pollfd(fd: signalPipe.readFD, events: Int16(POLLIN), revents: 0)) }
            for child in children {
                for fd in [child.stdoutFD, child.stderrFD] where fd >= 0 {
                    fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                }
            }
            _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 20) }
            _ = signalPipe?.drain()
            for child in children {
                if child.stderrFD >= 0 { readChildErrors(child) }
                if child.stdoutFD >= 0 { discardOutput(child) }
                if child.isRunning, let status = Reaper.poll(child.pid) { recordExit(child, status) }
            }
        }
    }

    private func discardOutput(_ child: Downstream) {
        var scratch = [UInt8](repeating: 0, count: 65536)
        while true {
            let result = scratch.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try FD.read(child.stdoutFD, into: raw) }
            }
            guard case .success(let count?) = result else {
                if case .failure = result {
                    FD.close(child.stdoutFD)
                    child.stdoutFD = -1
                }
                return
            }
            if count == 0 {
                FD.close(child.stdoutFD)
                child.stdoutFD = -1
                return
            }
        }
    }
}
