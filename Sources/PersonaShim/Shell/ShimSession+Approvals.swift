import Platform

/// Out-of-band approvals: the shell's side of asking a person outside the agent's client (the persona's approval
/// command, `persona-shim approve` / `deny` from a terminal). Everything is driven from the one poll loop.
extension ShimSession {
    func askOutOfBand(_ question: ApprovalQuestion) {
        let approvals = outOfBand ?? makeOutOfBandApprovals()
        outOfBand = approvals
        approvals.ask(question, now: monotonicNow())
        deliverApprovalAnswers()
    }

    func withdrawQuestion(_ id: String) {
        outOfBand?.withdraw(id)
    }

    private func makeOutOfBandApprovals() -> OutOfBandApprovals {
        // The agent's processes are taken now, at the first question: the shim's parent is still the agent.
        let check = ApproverCheck(uid: geteuid(), guardedRoots: ApproverCheck.agentRoots())
        return OutOfBandApprovals(
            settings: core.persona.approval, environment: configuration.environment, groups: groups,
            check: { check }, log: { [logger] in logger.info($0) })
    }

    var approvalPollRequests: [(fd: Int32, events: Int16)] { outOfBand?.pollRequests ?? [] }
    var approvalDeadline: UInt64? { outOfBand?.nextDeadline }
    var approvalCommandPIDs: [pid_t] { outOfBand?.commandPIDs ?? [] }

    func handleApproval(_ fd: Int32) {
        outOfBand?.handle(fd, now: monotonicNow())
        deliverApprovalAnswers()
    }

    func reapApprovalCommands() {
        guard let outOfBand else { return }
        outOfBand.reap()
        deliverApprovalAnswers()
    }

    func tickApprovals(now: UInt64) {
        outOfBand?.tick(now: now)
        deliverApprovalAnswers()
    }

    func closeApprovals() {
        outOfBand?.close()
        deliverApprovalAnswers()
    }

    /// Hands answers to the core, and audits every refused attempt to answer.
    private func deliverApprovalAnswers() {
        guard let outOfBand else { return }
        for attempt in outOfBand.takeRefusals() {
            logger.warning(
                "refused an attempt to answer question \(attempt.question) from process \(attempt.pid) (uid \(attempt.uid)): \(attempt.reason)"
            )
            do {
                try core.audit.record(
                    .approvalAttempt,
                    [
                        ("question", .string(attempt.question)), ("pid", .integer(Int(attempt.pid))),
                        ("uid", .integer(Int(attempt.uid))), ("refusal", .string(attempt.refusal)),
                        ("reason", .string(attempt.reason)),
                    ])
            } catch {
                logger.error("cannot write the audit record of a refused approval attempt: \(error)")
            }
        }
        let answers = outOfBand.takeAnswers()
        guard !answers.isEmpty else { return }
        core.now = monotonicNow()
        for (id, answer) in answers { core.approvalAnswered(id: id, answer) }
    }
}
