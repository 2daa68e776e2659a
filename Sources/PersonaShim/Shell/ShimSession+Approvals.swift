/// Out-of-band approvals: the shell's side of asking a person outside the agent's client.
extension ShimSession {
    /// Until an out-of-band channel is configured, a question nobody can be asked is refused at once.
    func askOutOfBand(_ question: ApprovalQuestion) {
        core.now = monotonicNow()
        core.approvalAnswered(
            id: question.id,
            .failed(by: "shim", reason: "no out-of-band approval channel is available in this session"))
    }

    func withdrawQuestion(_ id: String) {}
}
