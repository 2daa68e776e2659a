/// What the persona says about data flowing back to the agent (`masking`) and secrets flowing out (`secrets`),
/// compiled once when the persona loads: every detector set a tool can get is built here, so a bad pattern is a
/// persona error with its line, never a surprise in a session.
public struct MaskingPolicy: Sendable {
    public enum Replacement: String, Sendable {
        /// `[masked:email]`
        case label
        /// `[masked:email:3f9a1c2b]`: HMAC-SHA256 of the value under the session's key, so the same value masks
        /// the same way within a session and joins still work, while no two sessions can be correlated.
        case hash
    }

    /// What an outbound call carrying a secret gets.
    public enum Outbound: String, Sendable {
        case deny, ask, off
    }

    /// A detector choice for the tools matching some patterns (`masking.tools`).
    public struct ToolOverride: Sendable {
        public var patterns: [Glob]
        public var detectorNames: [String]
    }

    /// Whether anything flowing back is masked (`masking` present); `secrets` alone only checks outbound calls.
    public var masksResponses: Bool
    /// The detectors for everything without an override: resource reads, prompts, notifications, server requests,
    /// errors, and tools no override matches.
    public var detectorNames: [String]
    public var customPatterns: [CustomPattern]
    public var replacement: Replacement = .label
    public var toolOverrides: [ToolOverride] = []
    /// Tools whose answers are never masked.
    public var exemptTools: [Glob] = []
    /// JSON Pointers (into a result, an error object, or a message's `params`) whose values are never masked;
    /// a `*` segment matches any member or element.
    public var exemptPointers: [[String]] = []
    /// Literal values known to be safe: a detection of exactly one of these is left alone.
    public var exemptValues: Set<String> = []
    public var outbound: Outbound

    /// The detector set for the given names (built-in and the persona's own), built once per distinct choice.
    public let sets: DetectorSets

    public init(
        masksResponses: Bool, detectorNames: [String], customPatterns: [CustomPattern], outbound: Outbound,
        overrides: [ToolOverride] = []
    ) throws {
        self.masksResponses = masksResponses
        self.detectorNames = detectorNames
        self.customPatterns = customPatterns
        self.outbound = outbound
        self.toolOverrides = overrides
        var choices = [detectorNames] + overrides.map(\.detectorNames)
        // Outbound calls are scanned with every built-in and every pattern of the persona: a secret is a secret
        // whichever tool's answer it came from.
        choices.append(DetectorSet.builtInNames + customPatterns.map(\.name))
        self.sets = try DetectorSets(choices: choices, custom: customPatterns)
    }

    /// The detector names for an answer of `tool` (nil for answers that are not tool results).
    public func detectorNames(forTool tool: String?) -> [String] {
        guard let tool else { return detectorNames }
        let matching = toolOverrides.filter { $0.patterns.contains { $0.matches(tool) } }
        guard !matching.isEmpty else { return detectorNames }
        // Several overrides matching one tool: their union, so the order they are written in never matters.
        var names: [String] = []
        for override in matching {
            for name in override.detectorNames where !names.contains(name) { names.append(name) }
        }
        return names
    }

    public func isExempt(tool: String) -> Bool { exemptTools.contains { $0.matches(tool) } }

    /// The outbound scan's detectors.
    public var outboundDetectors: DetectorSet { sets.set(for: DetectorSet.builtInNames + customPatterns.map(\.name)) }
}

/// Every detector set a persona needs, keyed by the (sorted) names it holds.
public struct DetectorSets: Sendable {
    private var sets: [[String]: DetectorSet] = [:]
    private let custom: [CustomPattern]
    private let all: DetectorSet

    init(choices: [[String]], custom: [CustomPattern]) throws {
        self.custom = custom
        all = try DetectorSet(builtIn: DetectorSet.builtInNames, custom: custom)
        for names in choices {
            let key = names.sorted()
            guard sets[key] == nil else { continue }
            let builtIns = names.filter { DetectorSet.builtInNames.contains($0) }
            let own = custom.filter { names.contains($0.name) }
            sets[key] = try DetectorSet(builtIn: builtIns, custom: own)
        }
    }

    public func set(for names: [String]) -> DetectorSet {
        if let built = sets[names.sorted()] { return built }
        // A union of overrides that `init` did not build: its parts compiled, so it does too; should it not,
        // every detector of the persona applies (more masking, never less).
        let builtIns = names.filter { DetectorSet.builtInNames.contains($0) }
        return (try? DetectorSet(builtIn: builtIns, custom: custom.filter { names.contains($0.name) })) ?? all
    }
}
