/// Deadlines: the startup window, each server's handshake, restarts, call timeouts, coalesced list changes and
/// the audit's batching window. The shell sleeps until `nextDeadline` and then calls `fireTimers`.
extension SessionCore {
    /// The earliest moment something is due, if anything is.
    func nextDeadline() -> UInt64? {
        var next: UInt64?
        func consider(_ deadline: UInt64?) {
            guard let deadline else { return }
            next = min(next ?? deadline, deadline)
        }
        if !startupComplete { consider(startupDeadline) }
        for entry in initializeDeadlines { consider(entry.deadline) }
        for server in servers { consider(server.probe?.deadline) }
        consider(routes.nextCallDeadline())
        consider(approvals.nextDeadline)
        for exchange in exchanges.values { consider(exchange.deadline) }
        for held in heldServerRequests.values { consider(held.deadline) }
        consider(listChangeDeadline)
        if audit.hasPending {
            let deadline = auditFlushDeadline ?? now + Self.auditBatchWindow
            auditFlushDeadline = deadline
            consider(deadline)
        }
        for server in servers { consider(server.restartAt) }
        return next
    }

    func fireTimers() {
        if !startupComplete, let startupDeadline, now >= startupDeadline { checkStartupComplete() }
        if pendingInitializeID != nil { answerInitializeIfReady() }
        for entry in initializeDeadlines where entry.deadline <= now {
            serverFailed(
                servers[entry.server],
                reason:
                    "did not finish initializing within \(formatSeconds(persona.timeouts.initializeSeconds)) seconds",
                restartable: false)
        }
        for server in servers {
            guard let probe = server.probe, probe.deadline <= now else { continue }
            server.probe = nil
            guard routes.pending[probe.id] != nil, server.phase == .initializing else { continue }
            if let refusal = server.handshakeRefusal {
                routes.pending[probe.id] = nil
                serverFailed(server, reason: "\(refusal), and did not answer server/discover", restartable: false)
                continue
            }
            // No answer in time: taken for a legacy server (some read requests before initialize and say nothing).
            // The probe stays pending: a slow modern server's late answer still wins (`serverDiscovered`).
            logger.debug("[\(server.name)] did not answer server/discover in time; speaking the handshake revisions")
            sendInitialize(server)
        }
        for server in servers {
            guard let restartAt = server.restartAt, restartAt <= now else { continue }
            server.restartAt = nil
            if !stopping { perform(.restart(server: server.index)) }
        }
        if let listChangeDeadline, listChangeDeadline <= now { flushListChanges() }
        if let auditFlushDeadline, auditFlushDeadline <= now { commitAudit() }
        for (id, request) in routes.takeExpired(now: now) { timeOut(id, request) }
        expireApprovals()
        if !exchanges.isEmpty { expireExchanges() }
        if !heldServerRequests.isEmpty { expireHeldServerRequests() }
    }

    /// A forwarded request ran out of time: the agent hears so, and the server is told to stop working on it.
    private func timeOut(_ id: Int, _ request: ForwardedRequest) {
        failForward(
            request, outcome: "timeout", code: JSONRPCError.requestTimeout,
            "The server \(servers[request.server].name) did not answer \(request.exposedName) within \(formatSeconds(persona.timeouts.callSeconds)) seconds; the request was cancelled"
        )
        servers[request.server].input.append(
            Message.notification(
                method: "notifications/cancelled",
                params: ["requestId": .integer(id), "reason": "persona-shim: request timed out"]))
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
