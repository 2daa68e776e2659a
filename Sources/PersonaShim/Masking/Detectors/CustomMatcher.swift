/// A persona's own pattern, run with the C library's POSIX matcher (`PosixRegex`), which the benchmark measured
/// far ahead of Swift `Regex` on large texts (see README, "Masking detectors").
struct CustomMatcher: @unchecked Sendable {
    let index: Int
    let regex: PosixRegex

    /// Every non-empty, non-overlapping match, left to right.
    func scan(_ text: ScanText, into candidates: inout [Candidate]) {
        let buffer = UnsafeRawBufferPointer(start: text.bytes, count: text.count)
        var position = 0
        while position < text.count, let match = regex.firstMatch(in: buffer, from: position) {
            if match.isEmpty {
                position = match.upperBound + 1
                continue
            }
            candidates.append(Candidate(detector: index, range: match))
            position = match.upperBound
        }
    }
}
