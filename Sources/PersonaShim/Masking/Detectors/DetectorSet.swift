/// The detectors a masking rule runs: a choice of built-ins and the persona's own patterns, compiled once when the
/// persona loads and shared by every scan.
///
/// Built-ins are hand-written scanners over the raw UTF-8 bytes. One pass over the text looks each byte up in a
/// 256-entry table of the bytes a match must contain (`@`, digits, `+`, `(`, `A`, `_`, `-`, `J`, `B`/`b`, `=`, `:`),
/// keeping only those of the enabled detectors; only at such a byte does a scanner look around. Text without
/// candidates costs that one pass.
public struct DetectorSet: Sendable {
    /// Every built-in detector's name, in a fixed order.
    public static let builtInNames: [String] = BuiltInDetector.allCases.map(\.name)
    /// The built-ins whose matches are secrets (keys, tokens, private keys, JWTs, credentials): what outbound
    /// checks refuse.
    public static let secretNames: Set<String> = Set(BuiltInDetector.allCases.filter(\.isSecret).map(\.name))

    let builtIns: BuiltInSet
    let triggers: TriggerTable
    let custom: [CustomMatcher]
    /// Names by detector index: the built-ins' fixed order, then the persona's patterns in its order.
    let names: [String]

    /// Throws `DetectorError` for an unknown name, a pattern name that is empty or repeats another detector's, or
    /// a pattern that does not compile.
    public init(builtIn names: [String], custom: [CustomPattern] = []) throws {
        var builtIns = BuiltInSet()
        for name in names {
            guard let detector = BuiltInDetector(name: name) else { throw DetectorError.unknown(name) }
            builtIns.insert(detector)
        }
        var seen = Set(Self.builtInNames)
        var matchers: [CustomMatcher] = []
        for pattern in custom {
            guard !pattern.name.isEmpty else { throw DetectorError.badName(pattern, "a pattern needs a name") }
            guard seen.insert(pattern.name).inserted else {
                throw DetectorError.badName(
                    pattern, "a built-in detector or another pattern already has that name; choose another")
            }
            do {
                matchers.append(
                    CustomMatcher(
                        index: Self.builtInNames.count + matchers.count,
                        regex: try .init(pattern.pattern, reportsPositions: true)))
            } catch {
                throw DetectorError.badPattern(pattern, error.message)
            }
        }
        self.builtIns = builtIns
        self.triggers = TriggerTable(builtIns)
        self.custom = matchers
        self.names = Self.builtInNames + custom.map(\.name)
    }

    public var isEmpty: Bool { builtIns.bits == 0 && custom.isEmpty }

    public func scan(_ text: UnsafeRawBufferPointer) -> [Detection] {
        guard let base = text.baseAddress, text.count > 0, !isEmpty else { return [] }
        let scanText = ScanText(bytes: base.assumingMemoryBound(to: UInt8.self), count: text.count)
        var candidates: [Candidate] = []
        if builtIns.bits != 0 {
            var scanner = BuiltInScanner(text: scanText, enabled: builtIns)
            scanner.run(triggers)
            candidates = scanner.candidates
        }
        for matcher in custom { matcher.scan(scanText, into: &candidates) }
        return Candidate.resolve(candidates).map { Detection(detector: names[$0.detector], range: $0.range) }
    }

    /// Whether `text` holds any detection: `scan` without settling overlaps or naming detectors (settling never
    /// drops every candidate, so a candidate is a detection). What the prefilter asks of every string.
    func hasMatch(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress, text.count > 0, !isEmpty else { return false }
        let scanText = ScanText(bytes: base.assumingMemoryBound(to: UInt8.self), count: text.count)
        if builtIns.bits != 0 {
            var scanner = BuiltInScanner(text: scanText, enabled: builtIns)
            scanner.run(triggers)
            if !scanner.candidates.isEmpty { return true }
        }
        guard !custom.isEmpty else { return false }
        var candidates: [Candidate] = []
        for matcher in custom {
            matcher.scan(scanText, into: &candidates)
            if !candidates.isEmpty { return true }
        }
        return false
    }

    public func scan(_ text: String) -> [Detection] {
        var text = text
        return text.withUTF8 { scan(UnsafeRawBufferPointer($0)) }
    }
}

/// A match before overlaps are settled; `detector` indexes `DetectorSet.names`.
struct Candidate {
    var detector: Int
    var range: Range<Int>

    /// Sorted by start and non-overlapping: within each run of overlapping candidates the longer wins, then the
    /// lower detector index. Runs are almost always single candidates, so this is one sort and one sweep.
    static func resolve(_ candidates: [Candidate]) -> [Candidate] {
        guard candidates.count > 1 else { return candidates }
        let sorted = candidates.sorted {
            $0.range.lowerBound != $1.range.lowerBound
                ? $0.range.lowerBound < $1.range.lowerBound : $0.detector < $1.detector
        }
        var result: [Candidate] = []
        result.reserveCapacity(sorted.count)
        var clusterStart = 0
        while clusterStart < sorted.count {
            var clusterEnd = clusterStart + 1
            var reach = sorted[clusterStart].range.upperBound
            while clusterEnd < sorted.count && sorted[clusterEnd].range.lowerBound < reach {
                reach = max(reach, sorted[clusterEnd].range.upperBound)
                clusterEnd += 1
            }
            if clusterEnd - clusterStart == 1 {
                result.append(sorted[clusterStart])
            } else {
                result += settle(sorted[clusterStart..<clusterEnd])
            }
            clusterStart = clusterEnd
        }
        return result
    }

    private static func settle(_ cluster: ArraySlice<Candidate>) -> [Candidate] {
        let byPriority = cluster.sorted {
            $0.range.count != $1.range.count ? $0.range.count > $1.range.count : $0.detector < $1.detector
        }
        var chosen: [Candidate] = []
        for candidate in byPriority where !chosen.contains(where: { $0.range.overlaps(candidate.range) }) {
            chosen.append(candidate)
        }
        return chosen.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }
}
