/// Builds the environment a child starts with.
///
/// Like the MCP SDKs, children do not inherit the shim's whole environment, only a few keys a program needs to run;
/// anything else (tokens, keys) reaches a server only if its entry declares it.
public enum ChildEnvironment {
    /// The keys children inherit from the shim's own environment, as the MCP SDKs do.
    public static let inheritedKeys: [String] = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"]

    /// Base environment from `parent` (only `inheritedKeys` that are present) overlaid with `declared`. The nesting
    /// depth (`NestingDepth.variable`) is always the parent's: a server entry must not be able to reset it.
    public static func build(parent: [String: String], declared: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for key in inheritedKeys {
            if let value = parent[key] {
                result[key] = value
            }
        }
        result.merge(declared) { _, declaredValue in declaredValue }
        result[NestingDepth.variable] = parent[NestingDepth.variable]
        return result
    }
}
