extension SessionCore {
    /// What changes in a server's answer on its way to the agent: the id, and for a modern agent the result's
    /// `resultType`, in the order they occur in the line (built at once: growing the array cost more than marking).
    func answerReplacements(_ envelope: MessageEnvelope, _ raw: UnsafeRawBufferPointer, id: (Range<Int>, [UInt8]))
        -> [(Range<Int>, [UInt8])]
    {
        guard agentEra == .modern, let result = envelope.result,
            let marking = ModernResult.marking(raw, result: result, type: envelope.resultType)
        else { return [id] }
        return marking.0.lowerBound < id.0.lowerBound ? [marking, id] : [id, marking]
    }
}

extension SessionCore {
    /// `{}`, made once: most forwarded requests of a modern agent to a legacy server carry it as their `_meta`.
    static let emptyObjectBytes = Array("{}".utf8)
}
