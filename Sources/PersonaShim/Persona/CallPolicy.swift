/// The persona's per-call sections: argument rules, limits, behaviour, flows, annotation overrides and
/// `readOnly`. Empty for a persona that uses none, and then the request path has nothing to do.
public struct CallPolicy: Sendable {
    public var rules = ArgumentRuleSet()
    public var limits: [CallLimit] = []
    public var behaviour = BehaviourPolicy()
    public var flows = FlowPolicy()
    public var annotations: [AnnotationOverride] = []
    /// Show only tools whose (declared or overridden) `readOnlyHint` is true; a tool without the hint is hidden.
    public var readOnly = false

    public init() {}

    public var isEmpty: Bool {
        rules.isEmpty && limits.isEmpty && behaviour.isEmpty && flows.isEmpty && annotations.isEmpty && !readOnly
    }

    /// The annotations a tool is shown with: each hint the persona sets for a pattern matching the tool replaces
    /// the server's; when several patterns set the same hint differently, `true` wins for `destructiveHint` and
    /// `openWorldHint`, `false` for `readOnlyHint` and `idempotentHint` (the cautious reading, whatever the order).
    public func annotations(for tool: String, declared: ToolHints) -> ToolHints {
        var hints = declared
        var set = ToolHints()
        for entry in annotations where entry.pattern.matches(tool) {
            func merge(_ current: Bool?, _ new: Bool?, cautious: Bool) -> Bool? {
                guard let new else { return current }
                guard let current else { return new }
                return current == cautious || new == cautious ? cautious : new
            }
            set.readOnlyHint = merge(set.readOnlyHint, entry.hints.readOnlyHint, cautious: false)
            set.destructiveHint = merge(set.destructiveHint, entry.hints.destructiveHint, cautious: true)
            set.idempotentHint = merge(set.idempotentHint, entry.hints.idempotentHint, cautious: false)
            set.openWorldHint = merge(set.openWorldHint, entry.hints.openWorldHint, cautious: true)
        }
        hints.readOnlyHint = set.readOnlyHint ?? hints.readOnlyHint
        hints.destructiveHint = set.destructiveHint ?? hints.destructiveHint
        hints.idempotentHint = set.idempotentHint ?? hints.idempotentHint
        hints.openWorldHint = set.openWorldHint ?? hints.openWorldHint
        return hints
    }

    /// Whether a `readOnly` persona shows the tool: only when its hint, after overrides, is exactly true.
    public func showsUnderReadOnly(_ hints: ToolHints) -> Bool { !readOnly || hints.readOnlyHint == true }
}

/// The MCP tool annotations a persona can override.
public struct ToolHints: Sendable, Equatable {
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    public var openWorldHint: Bool?

    public init(
        readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil,
        openWorldHint: Bool? = nil
    ) {
        self.readOnlyHint = readOnlyHint
        self.destructiveHint = destructiveHint
        self.idempotentHint = idempotentHint
        self.openWorldHint = openWorldHint
    }

    /// The hints of a tool's `annotations` object (absent or non-boolean hints are nil).
    public init(annotations: JSONValue?) {
        readOnlyHint = annotations?["readOnlyHint"]?.boolValue
        destructiveHint = annotations?["destructiveHint"]?.boolValue
        idempotentHint = annotations?["idempotentHint"]?.boolValue
        openWorldHint = annotations?["openWorldHint"]?.boolValue
    }
}

/// `annotations` entries: hints for the tools a pattern matches.
public struct AnnotationOverride: Sendable {
    public var pattern: Glob
    public var hints: ToolHints

    public init(pattern: Glob, hints: ToolHints) {
        self.pattern = pattern
        self.hints = hints
    }
}
