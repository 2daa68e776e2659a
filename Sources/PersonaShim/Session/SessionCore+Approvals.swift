/// Calls parked for a person's approval.
extension SessionCore {
    /// An out-of-band channel settled question `id`.
    func approvalAnswered(id: String, _ answer: ApprovalAnswer) {}
}
