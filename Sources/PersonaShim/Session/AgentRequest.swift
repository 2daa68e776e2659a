/// One request from the agent, with its bytes, for the handlers that route it.
struct AgentRequest {
    let raw: UnsafeRawBufferPointer
    let envelope: MessageEnvelope
    let range: Range<Int>
    let params: RequestParams

    init(raw: UnsafeRawBufferPointer, envelope: MessageEnvelope, range: Range<Int>) {
        self.raw = raw
        self.envelope = envelope
        self.range = range
        self.params = envelope.requestParams
    }

    var id: [UInt8] { Array(raw[envelope.id!]) }
    var method: String { envelope.method! }

    func value(_ range: Range<Int>?) -> JSONValue? { range.flatMap { try? JSONValue.parse(raw, range: $0) } }

    /// The string at `range`, if it is one.
    func string(_ range: Range<Int>?) -> String? {
        guard let range, raw[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        var reader = JSONReader(raw, range: range)
        return try? reader.parseString()
    }

    /// Lists come back as one complete page, so any cursor is one the shim never issued.
    func rejectCursor(_ core: SessionCore) -> Bool {
        guard params.cursor == nil else {
            core.sendToAgent(
                Message.error(
                    id: id, code: JSONRPCError.invalidParams, message: "Invalid cursor: lists are one complete page"))
            return false
        }
        return true
    }
}
