/// The agent's side of the shell: reading its lines into the core, writing the core's answers back.
extension ShimSession {
    func readAgent() {
        var budget = 16
        while budget > 0 && !agentClosed && !core.agentInputPaused {
            budget -= 1
            let result: LineReader.FillResult
            do {
                result = try agentReader.fill(from: agentInputFD)
            } catch {
                logger.error("reading from the agent failed: \(error)")
                agentClosed = true
                break
            }
            switch result {
            case .wouldBlock: budget = 0
            case .endOfFile:
                agentClosed = true
                logger.debug("the agent closed its input")
                agentReader.finishInput()
            case .data: if agentReader.lastReadWasShort { budget = 0 }
            }
            processAgentLines()
        }
    }

    /// Hands buffered lines to the core, but only while the agent keeps up with the answers: a line left in the
    /// buffer costs nothing, an answer waiting in the output queue can cost megabytes.
    func processAgentLines() {
        var handled = false
        // What this read brought is judged first; its decisions then share one audit write, and the forwards go
        // out. A server with a full group of forwards gets them at once, so it works while the shim judges the
        // rest.
        defer { if handled { releaseForwards() } }
        while !core.agentInputPaused, let event = agentReader.next() {
            handled = true
            switch event {
            case .line(let range):
                core.handleAgentLine(agentReader.bytes, range)
            case .oversized(let bytes):
                core.agentLineTooLong(bytes, limit: configuration.lineLimit)
            }
            if !core.fullGroups.isEmpty {
                for server in core.fullGroups { flushServer(server) }
                core.fullGroups.removeAll(keepingCapacity: true)
            }
        }
        performActions()
    }

    /// Writes the staged audit records, then the forwards they cover, to the servers.
    func releaseForwards() {
        core.commitAudit()
        for server in core.servers.indices where !core.servers[server].input.isEmpty { flushServer(server) }
    }

    func flushAgent() {
        guard !core.agentGone, !core.agentOutput.isEmpty else { return }
        do {
            _ = try core.agentOutput.flush(to: agentOutputFD)
        } catch {
            agentWentAway(error)
        }
    }

    /// The agent's output closed (EPIPE): nobody is left to answer, so clean up and leave.
    func agentWentAway(_ error: SystemError) {
        logger.debug("the agent's output closed: \(error)")
        agentClosed = true
        core.agentWentAway()
        stop("the agent went away")
    }

    func flushOutputs() {
        flushAgent()
        for server in core.servers.indices { flushServer(server) }
    }
}
