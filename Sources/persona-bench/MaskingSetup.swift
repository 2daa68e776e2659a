// The "shim + masking" setups: the 8 MiB result against the relay with masking on, with nothing to mask and with a
// hit in every KiB.

import MCPWire

extension Workspace {
    /// Every built-in detector on every answer, and the outbound check on every call. The benchmark's answers and
    /// arguments hold no match in "shim + masking", so it measures what scanning costs when there is nothing to mask
    /// (the common case), including the 8 MiB result scanned end to end, judged against the bar (≤ 3× relay).
    static let maskingPersonaKeys: [(String, JSONValue)] = [
        ("masking", ["detectors": "all", "replacement": "hash"]), ("secrets", ["outbound": "deny"]),
    ]

    /// "shim + masking", and "a hit per KiB": the same with an e-mail address in every KiB of the blob results
    /// (`persona-fixture --blob-secrets`), so the 8 MiB result is parsed, every hit masked, and the result rewritten.
    func maskingSetups() throws(BenchFailure) -> [Setup] {
        [
            try shimSetup(
                id: "masking", label: "shim + masking", servers: 1, tools: Self.tools, extra: Self.maskingPersonaKeys),
            try shimSetup(
                id: "maskingHits", label: "shim + masking, a hit per KiB", servers: 1, tools: Self.tools,
                blobSecrets: true, extra: Self.maskingPersonaKeys),
        ]
    }
}
