/// How deeply persona-shim runs inside itself, carried to every child in `PERSONA_SHIM_DEPTH`.
///
/// A server entry that starts persona-shim with the same persona starts a shim that does the same, without end; with
/// two such entries the tree grows exponentially. Every shim gives its children its own depth plus one (through
/// wrappers such as `sh` or `npx`, which pass the environment on), and refuses to start past `limit`.
public enum NestingDepth {
    public static let variable = "PERSONA_SHIM_DEPTH"
    /// Deep enough for deliberate nesting (a shim in front of a shim), shallow enough to stop a loop early.
    public static let limit = 4

    /// This process's depth: 0 when the variable is absent; nil when it holds anything but a small whole number.
    public static func current(_ environment: [String: String]) -> Int? {
        guard let text = environment[variable] else { return 0 }
        guard let depth = Int(text), (0...1000).contains(depth) else { return nil }
        return depth
    }

    /// Why a shim with this environment must not start, or nil.
    public static func refusal(_ environment: [String: String]) -> String? {
        guard let depth = current(environment) else {
            return "refusing to start: \(variable) is \"\(environment[variable] ?? "")\", not a nesting depth. "
                + "It is set by persona-shim for the servers it starts; unset it, or start persona-shim directly."
        }
        guard depth >= limit else { return nil }
        return "refusing to start: this persona-shim would run \(depth + 1) levels deep inside persona-shim "
            + "(\(variable)=\(depth), the limit is \(limit)). A server entry most likely starts persona-shim itself, "
            + "which starts itself again; remove that entry from the persona or the --servers file."
    }

    /// `environment` with the depth children are given (one more than this process's).
    public static func forChildren(_ environment: [String: String]) -> [String: String] {
        var result = environment
        result[variable] = String((current(environment) ?? limit) + 1)
        return result
    }
}
