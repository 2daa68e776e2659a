/// The members of a request's `_meta` the stateless revisions use, read from what the
/// envelope scan found in its one pass, instead of walking `_meta` again for each question.
///
/// They read exactly as `MessageEnvelope.members(named:)` would: when a key is written twice anywhere in `params`
/// (a request refused later anyway), that walk decides, since it reads a repeated key as absent.
extension MessageEnvelope {
    /// `_meta`'s protocol version, client capabilities and client info, in that order; nil without `_meta`.
    func modernMetaMembers(_ raw: UnsafeRawBufferPointer) -> [Range<Int>?]? {
        guard let meta = requestParams.meta else { return nil }
        guard requestParams.duplicate == nil else {
            return Self.members(
                raw, object: meta,
                named: [MCPProtocol.protocolVersionKey, MCPProtocol.clientCapabilitiesKey, MCPProtocol.clientInfoKey])
        }
        let found = requestParams.modernMeta
        return [found.protocolVersion, found.clientCapabilities, found.clientInfo]
    }

    /// `_meta`'s `io.modelcontextprotocol/logLevel`.
    func metaLogLevel(_ raw: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let meta = requestParams.meta else { return nil }
        guard requestParams.duplicate == nil else {
            return Self.members(raw, object: meta, named: [SessionCore.logLevelKey])[0]
        }
        return requestParams.modernMeta.logLevel
    }

}
