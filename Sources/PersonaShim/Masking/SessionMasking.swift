/// One session's masking: the persona's policy, the session's random key, and the keyed digests of every value
/// masked so far (for the outbound check). Only digests are kept, never the values, so the shim's memory does not
/// collect the secrets it keeps from the agent. Used from the session's thread only.
final class SessionMasking {
    let policy: MaskingPolicy
    let key: MaskingKey
    /// HMAC-SHA256 (first 16 bytes) under `key` of each value masked in this session, at most `rememberedLimit`.
    private(set) var maskedDigests: Set<MaskingKey.Digest> = []
    /// Bounds the memory a long session's distinct values take (about 20 MB at the limit); values masked past it
    /// are still masked, only not recognised on their way out.
    static let rememberedLimit = 262_144
    private var toolDetectors: [String: DetectorSet] = [:]
    /// Where the prefilter decodes escaped strings, kept so that a small message costs no allocation.
    private var prefilterScratch: [UInt8] = []
    let defaultDetectors: DetectorSet
    let outboundDetectors: DetectorSet

    init(policy: MaskingPolicy, key: MaskingKey = .random()) {
        self.policy = policy
        self.key = key
        self.defaultDetectors = policy.sets.set(for: policy.detectorNames)
        self.outboundDetectors = policy.outboundDetectors
    }

    /// The session's masking under a reloaded persona's policy: the same key, so a value masks as before, and the
    /// same remembered digests, so a value masked before the reload still cannot leave after it.
    func reloaded(policy: MaskingPolicy) -> SessionMasking {
        let next = SessionMasking(policy: policy, key: key)
        next.maskedDigests = maskedDigests
        return next
    }

    /// The detectors for a tool's answers (worked out once per tool name), or the default set.
    func detectors(forTool tool: String?) -> DetectorSet {
        guard let tool, !policy.toolOverrides.isEmpty else { return defaultDetectors }
        if let known = toolDetectors[tool] { return known }
        let set = policy.sets.set(for: policy.detectorNames(forTool: tool))
        toolDetectors[tool] = set
        return set
    }

    /// Whether anything in the value at `range` of `raw` could be masked by `detectors` (`MaskingPrefilter`).
    func mightMask(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, detectors: DetectorSet) -> Bool {
        MaskingPrefilter.mightMask(raw, range, detectors: detectors, scratch: &prefilterScratch)
    }

    /// `value` masked, with what was masked; nil when nothing was. `alsoExempt` adds values known to be safe for
    /// this message only (those at exempt pointers, so the text and structured forms of a result stay alike).
    func mask(_ value: JSONValue, detectors: DetectorSet, alsoExempt: Set<String> = []) -> (JSONValue, Masker.Report)? {
        let masker = Masker(
            detectors: detectors, replacement: policy.replacement, key: key, exemptPointers: policy.exemptPointers,
            exemptValues: policy.exemptValues.union(alsoExempt))
        var report = Masker.Report()
        let masked = masker.mask(value, report: &report)
        guard !report.isEmpty else { return nil }
        remember(report)
        return (masked, report)
    }

    /// The value in `range` of `raw` masked straight from its bytes (`RawMasker`), or nil when nothing was; only for
    /// a persona without exempt pointers (they need the tree).
    func maskBytes(
        _ raw: UnsafeRawBufferPointer, _ range: Range<Int>, detectors: DetectorSet
    ) -> ([UInt8], Masker.Report)? {
        let masker = Masker(
            detectors: detectors, replacement: policy.replacement, key: key, exemptPointers: [],
            exemptValues: policy.exemptValues)
        var report = Masker.Report()
        guard let masked = RawMasker(masker: masker).mask(raw, range, report: &report), !report.isEmpty else {
            return nil
        }
        remember(report)
        return (masked, report)
    }

    private func remember(_ report: Masker.Report) {
        for digest in report.digests where maskedDigests.count < Self.rememberedLimit { maskedDigests.insert(digest) }
    }

    /// The strings found at the exempt pointers of `value`.
    func exemptStrings(in value: JSONValue) -> Set<String> {
        guard !policy.exemptPointers.isEmpty else { return [] }
        var found: Set<String> = []
        func walk(_ node: JSONValue, _ path: inout [String], exempt: Bool) {
            let exempt = exempt || MaskingPointer.isExempt(path, policy.exemptPointers)
            switch node {
            case .string(let text): if exempt { found.insert(text) }
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    path.append(String(index))
                    walk(element, &path, exempt: exempt)
                    path.removeLast()
                }
            case .object(let object):
                for member in object.members {
                    path.append(member.key)
                    walk(member.value, &path, exempt: exempt)
                    path.removeLast()
                }
            default: break
            }
        }
        var path: [String] = []
        walk(value, &path, exempt: false)
        return found
    }

    // MARK: Outbound

    /// One secret found in a call's arguments: which detector, and where (never the value).
    struct OutboundFinding: Equatable {
        var detector: String
        var pointer: String
        /// Whether it was found because this session masked the same value before (not a secret detector).
        var maskedEarlier: Bool
    }

    /// The first secret in `arguments`: a match of a built-in secret detector, or a value this session masked.
    func outboundFinding(_ arguments: JSONValue) -> OutboundFinding? {
        var path: [String] = []
        return outboundFinding(arguments, &path)
    }

    private func outboundFinding(_ node: JSONValue, _ path: inout [String]) -> OutboundFinding? {
        switch node {
        case .string(let text):
            if policy.exemptValues.contains(text) { return nil }
            let utf8 = Array(text.utf8)
            for detection in outboundDetectors.scan(text) {
                let found = Array(utf8[detection.range.clamped(to: 0..<utf8.count)])
                if policy.exemptValues.contains(String(decoding: found, as: UTF8.self)) { continue }
                if DetectorSet.secretNames.contains(detection.detector) {
                    return OutboundFinding(
                        detector: detection.detector, pointer: MaskingPointer.text(path), maskedEarlier: false)
                }
                if !maskedDigests.isEmpty, maskedDigests.contains(key.digest(found)) {
                    return OutboundFinding(
                        detector: detection.detector, pointer: MaskingPointer.text(path), maskedEarlier: true)
                }
            }
            if !maskedDigests.isEmpty, maskedDigests.contains(key.digest(utf8)) {
                return OutboundFinding(
                    detector: "masked-value", pointer: MaskingPointer.text(path), maskedEarlier: true)
            }
            return nil
        case .number(let literal):
            return outboundFinding(.string(literal), &path)
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                path.append(String(index))
                defer { path.removeLast() }
                if let finding = outboundFinding(element, &path) { return finding }
            }
            return nil
        case .object(let object):
            for member in object.members {
                path.append(member.key)
                defer { path.removeLast() }
                if let finding = outboundFinding(member.value, &path) { return finding }
            }
            return nil
        default:
            return nil
        }
    }

    /// The outbound decision on a finding: `secrets.outbound` says deny or ask.
    func decision(for finding: OutboundFinding) -> RuleDecision {
        let what =
            finding.maskedEarlier
            ? "a value persona-shim masked earlier in this session (detector \(finding.detector))"
            : "a secret (detector \(finding.detector))"
        let place = finding.pointer.isEmpty ? "the arguments" : "the argument at \(finding.pointer)"
        let reason =
            "\(place) carries \(what), and the persona keeps secrets from leaving through tool calls; if the value is known to be safe, the persona's owner can list it in masking.exempt.values"
        return policy.outbound == .ask
            ? .ask(rule: "secrets.outbound", reason: reason) : .deny(rule: "secrets.outbound", reason: reason)
    }
}
