// The "shim + masking" setup: the hook for measuring the 8 MiB result against the relay with masking on.

import MCPWire

extension Workspace {
    /// The persona keys that turn masking on for the echo and blob tools with every built-in detector. Empty until
    /// the persona file has a masking section (issue 14's integration); filling them in adds the "shim + masking"
    /// setup to the main comparison (`--only masking`) and judges its 8 MiB result against the bar, ≤ 3× relay.
    /// The fixture's blob is all `x`, which the prefilter skips eight bytes at a time; a fair figure also needs a
    /// blob of realistic text (MaskingTexts.clean) from the fixture.
    static let maskingPersonaKeys: [(String, JSONValue)] = []

    func maskingSetups() throws(BenchFailure) -> [Setup] {
        guard !Self.maskingPersonaKeys.isEmpty else { return [] }
        return [
            try shimSetup(
                id: "masking", label: "shim + masking", servers: 1, tools: Self.tools, extra: Self.maskingPersonaKeys)
        ]
    }
}
