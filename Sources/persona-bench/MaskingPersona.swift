// The masking settings of the "shim + masking" setup.

import MCPWire

extension Workspace {
    /// Every built-in detector on every answer, and the outbound check on every call: the benchmark's answers and
    /// arguments hold no match, so this measures what scanning costs when there is nothing to mask (the common
    /// case), including the 8 MiB result scanned end to end.
    static var masking: [(String, JSONValue)] {
        [("masking", ["detectors": "all", "replacement": "hash"]), ("secrets", ["outbound": "deny"])]
    }
}
