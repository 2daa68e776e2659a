/// Labels on tools and servers and the flows between them that a session must not complete: the "lethal
/// trifecta" of untrusted input, private data and a way out.
public struct FlowPolicy: Sendable {
    public static let untrustedInput = "untrusted-input"
    public static let privateData = "private-data"
    public static let egress = "egress"

    /// Labels of tools, by pattern over exposed names.
    public var toolLabels: [(pattern: Glob, labels: [String])]
    /// Labels of every tool of a server.
    public var serverLabels: [String: [String]]
    public var flows: [Flow]

    /// Once the session has called a tool with any `from` label, calls to tools with any `to` label get
    /// `decision`.
    public struct Flow: Sendable, Equatable {
        public var id: String
        public var from: [String]
        public var to: [String]
        public var decision: RuleVerdict

        public init(id: String, from: [String], to: [String], decision: RuleVerdict) {
            self.id = id
            self.from = from
            self.to = to
            self.decision = decision
        }
    }

    /// The flow applied when labels are given and `flows` is not: untrusted input or private data, then egress,
    /// is refused.
    public static let defaultFlow = Flow(
        id: "untrusted-or-private-to-egress", from: [untrustedInput, privateData], to: [egress], decision: .deny)

    public init(
        toolLabels: [(pattern: Glob, labels: [String])] = [], serverLabels: [String: [String]] = [:],
        flows: [Flow]? = nil
    ) {
        self.toolLabels = toolLabels
        self.serverLabels = serverLabels
        self.flows = flows ?? [Self.defaultFlow]
    }

    public var isEmpty: Bool { toolLabels.isEmpty && serverLabels.isEmpty }

    /// A tool's labels, worked out once per tool when the tool list is built.
    public func labels(tool: String, server: String) -> [String] {
        var labels = serverLabels[server] ?? []
        for entry in toolLabels where entry.pattern.matches(tool) {
            for label in entry.labels where !labels.contains(label) { labels.append(label) }
        }
        return labels.sorted()
    }
}

/// What has tainted a session: each label the session has picked up, and the first call that brought it.
public struct FlowTracker: Sendable {
    public let policy: FlowPolicy
    /// Label → the tool whose call first brought it, for the audit.
    public private(set) var taint: [String: String] = [:]
    /// The keys of `taint`, for the check every sent call makes (a few labels: a scan beats hashing).
    private var tainted: [String] = []

    /// Every flow's `to` labels: a call with none of them completes no flow.
    private let sinks: [String]

    public init(policy: FlowPolicy) {
        self.policy = policy
        self.sinks = policy.flows.flatMap(\.to)
    }

    /// Judges a call to a tool with `labels` given the session's taint so far.
    public func evaluate(tool: String, labels: [String]) -> RuleDecision {
        guard !taint.isEmpty, labels.contains(where: sinks.contains) else { return .allow }
        var decision = RuleDecision.allow
        for flow in policy.flows where flow.to.contains(where: labels.contains) {
            let sources = flow.from.filter { taint[$0] != nil }.sorted()
            guard !sources.isEmpty else { continue }
            let because = sources.map { "\($0) (from \(taint[$0]!))" }.joined(separator: " and ")
            let sink = flow.to.filter(labels.contains).sorted().joined(separator: ", ")
            let rule = "flows.\(flow.id)"
            switch flow.decision {
            case .deny:
                decision = decision.combined(
                    with: .deny(
                        rule: rule,
                        reason: "\(tool) is \(sink), and this session has read \(because); the call is refused."))
            case .ask:
                decision = decision.combined(
                    with: .ask(
                        rule: rule,
                        reason: "\(tool) is \(sink), and this session has read \(because); the call needs approval."))
            }
        }
        return decision
    }

    /// Records a call that was sent: its labels taint the session from now on (counted when sent, not when
    /// answered, so a flow cannot slip between a pipelined read and its answer).
    public mutating func record(tool: String, labels: [String]) {
        for label in labels
        where !tainted.contains(label) && policy.flows.contains(where: { $0.from.contains(label) }) {
            taint[label] = tool
            tainted.append(label)
        }
    }

    /// For the audit: `label:tool` pairs, sorted.
    public var taintSummary: [String] { taint.map { "\($0.key):\($0.value)" }.sorted() }
}
