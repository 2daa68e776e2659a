/// A tool call parked until a person answers: the request's own bytes (what is forwarded if the answer is yes),
/// and everything `forward` needs to send it on without judging it again (so limits count it once).
struct ParkedCall {
    enum Channel: Equatable {
        /// The shim's `elicitation/create` to the agent's client, under this id of the shim's.
        case client(elicitationID: Int)
        /// An `askOutOfBand` action.
        case outOfBand

        var auditName: String {
            switch self {
            case .client: "client"
            case .outOfBand: "out-of-band"
            }
        }
    }

    var question: ApprovalQuestion
    /// The agent's request line as it was read.
    var line: [UInt8]
    var agentID: [UInt8]
    var target: ForwardTarget
    var chain: PolicyChain
    var known: PolicyDecision?
    var recorded: RecordedEntry
    /// The per-call rules' judgement, holding the call's place under the limits until it is settled.
    var judgement: CallJudgement
    var argsDigest: SHA256.Digest
    var deadline: UInt64
    var channel: Channel
}

/// A question put to a 2026-07-28 agent in an `input_required` result: nothing is parked (the request was answered),
/// and the retry that carries the person's answer must name this question through the sealed `requestState`.
struct ApprovalTicket {
    var question: ApprovalQuestion
    var argsDigest: SHA256.Digest
    var deadline: UInt64
}

/// A parked call let through: who said yes, and the judgement that already counted it.
struct ApprovedCall {
    var question: ApprovalQuestion
    var by: String
    var how: String
    var judgement: CallJudgement
}

/// The session's open questions. Empty unless a persona's rule says `ask`; a call that needs no approval never
/// looks here.
struct ApprovalBook {
    var parked: [String: ParkedCall] = [:]
    /// The shim's elicitation ids, to the question each asks.
    var asking: [Int: String] = [:]
    var tickets: [String: ApprovalTicket] = [:]
    /// Seals the `requestState` of the shim's own questions to new-era agents; its own key, so a state the shim
    /// sealed for a server never opens as an approval, nor the other way round.
    var seal: RequestStateSeal?

    /// At most this many calls wait for a person at once; past it a call that needs approval is refused.
    static let parkedLimit = 64

    var nextDeadline: UInt64? {
        guard !parked.isEmpty else { return nil }
        return parked.values.lazy.map(\.deadline).min()
    }

    /// A fresh question id: 128 random bits, in hex.
    static func newQuestionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return RequestStateSeal.hex((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
