/// The end of a session, as the core sees it: every request still owed an answer gets one.
extension SessionCore {
    /// Answers everything still waiting (forwarded requests, requests deferred until the servers started, the
    /// agent's `initialize`, aggregated lists) with an error saying the shim is shutting down.
    func answerEverythingOwed() {
        stopping = true
        commitAudit()
        for server in servers {
            failPendingRequests(
                of: server, outcome: "shutdown",
                message: "persona-shim is shutting down; the server \(server.name) was stopped")
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
        for fanOut in routes.fanOuts.values {
            sendToAgent(
                Message.error(
                    id: fanOut.agentID, code: JSONRPCError.requestFailed, message: "persona-shim is shutting down"))
        }
        routes.fanOuts = [:]
        refuseParkedCalls()
    }

    /// Records the session's end (if it started) and writes what waits. The session is over either way, so a
    /// record that cannot be written is logged.
    func endSession(reason: String) {
        if sessionStarted { recordLifecycle(.sessionEnd, [("reason", .string(reason))]) }
        commitAudit()
    }
}
