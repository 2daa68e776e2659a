import Platform

/// `persona-shim digest 'JSON'`: the `argsDigest` an audit record carries for a call with these arguments, so a
/// record can be matched to a call without the audit trail holding the arguments themselves.
enum DigestCommand {
    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(HelpText.digest)
            return PersonaShimCLI.ExitCode.success
        }
        guard arguments.count == 1, let text = arguments.first else {
            let given = arguments.map { "\"\($0)\"" }.joined(separator: ", ")
            return PersonaShimCLI.usageError(
                arguments.isEmpty
                    ? "missing the arguments to digest, as one JSON text (e.g. '{\"query\":\"x\"}')"
                    : "digest takes one JSON text (quote it), but was given \(arguments.count): \(given)",
                command: "digest")
        }
        let bytes = text == "-" ? (Files.read("/dev/stdin") ?? []) : Array(text.utf8)
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONSyntaxError) -> SHA256.Digest in
                // The same function the session hashes a call's `arguments` with, over the same text.
                _ = try JSONValue.parse(raw)
                return try CanonicalJSON.digest(raw, valueRange(raw))
            }
        }
        switch result {
        case .success(let digest):
            print("sha256:" + digest.bytes.hexString)
            return PersonaShimCLI.ExitCode.success
        case .failure(let error):
            Logger.writeLine(
                "persona-shim: error: the arguments are not valid JSON: \(error.message) (at byte \(error.offset) of \(String(decoding: bytes.prefix(80), as: UTF8.self)))"
            )
            return PersonaShimCLI.ExitCode.dataError
        }
    }

    /// The value without the whitespace around it, as the session's scanner locates `arguments`.
    static func valueRange(_ raw: UnsafeRawBufferPointer) -> Range<Int> {
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        var start = 0
        var end = raw.count
        while start < end && blank.contains(raw[start]) { start += 1 }
        while end > start && blank.contains(raw[end - 1]) { end -= 1 }
        return start..<end
    }
}
