import Platform

/// Masks a JSON value straight from its bytes, without building a tree: the fast path for answers with something to
/// mask. It walks the value once, scans each string value (decoded first when it holds escapes) and each number, and
/// copies the bytes to a new buffer only from the first match on, splicing each replacement in. A string without
/// escapes keeps its bytes around the match; one with escapes is written again, escaped as JSON. What it masks, and
/// how, is exactly what `Masker` does over the parsed value (a test holds the two to each other); exempt pointers
/// need the tree, so a persona with them takes `Masker`.
struct RawMasker {
    let masker: Masker

    /// One step of the path to the value being read: a member's key (its bytes' range, quotes excluded) or an index.
    private enum Step {
        case key(Range<Int>, escaped: Bool)
        case index(Int)
    }

    private struct Walk {
        let raw: UnsafeRawBufferPointer
        var position: Int
        let end: Int
        var steps: [Step] = []
        /// Bytes written so far, and how far into `raw` they reach; nil until the first match.
        var output: [UInt8]?
        var copied: Int
        var decoded: [UInt8] = []
    }

    /// The masked bytes of the value in `range` (valid JSON: the envelope scan checked it), or nil when nothing in it
    /// is masked.
    func mask(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, report: inout Masker.Report) -> [UInt8]? {
        var walk = Walk(raw: raw, position: range.lowerBound, end: range.upperBound, copied: range.lowerBound)
        value(&walk, report: &report, depth: 0)
        guard var output = walk.output else { return nil }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[walk.copied..<range.upperBound]))
        return output
    }

    private func skipWhitespace(_ walk: inout Walk) {
        while walk.position < walk.end {
            switch walk.raw[walk.position] {
            case 0x20, 0x09, 0x0A, 0x0D: walk.position += 1
            default: return
            }
        }
    }

    private func value(_ walk: inout Walk, report: inout Masker.Report, depth: Int) {
        skipWhitespace(&walk)
        guard walk.position < walk.end, depth < 512 else { return }
        switch walk.raw[walk.position] {
        case UInt8(ascii: "{"):
            walk.position += 1
            while true {
                skipWhitespace(&walk)
                guard walk.position < walk.end, walk.raw[walk.position] == UInt8(ascii: "\"") else { break }
                let (body, escaped) = stringToken(&walk)
                skipWhitespace(&walk)
                walk.position += 1  // the colon
                walk.steps.append(.key(body, escaped: escaped))
                value(&walk, report: &report, depth: depth + 1)
                walk.steps.removeLast()
                skipWhitespace(&walk)
                guard walk.position < walk.end, walk.raw[walk.position] == UInt8(ascii: ",") else { break }
                walk.position += 1
            }
            walk.position += 1  // the closing brace
        case UInt8(ascii: "["):
            walk.position += 1
            var index = 0
            while true {
                skipWhitespace(&walk)
                guard walk.position < walk.end, walk.raw[walk.position] != UInt8(ascii: "]") else { break }
                walk.steps.append(.index(index))
                value(&walk, report: &report, depth: depth + 1)
                walk.steps.removeLast()
                index += 1
                skipWhitespace(&walk)
                guard walk.position < walk.end, walk.raw[walk.position] == UInt8(ascii: ",") else { break }
                walk.position += 1
            }
            walk.position += 1  // the closing bracket
        case UInt8(ascii: "\""):
            let start = walk.position
            let (body, escaped) = stringToken(&walk)
            if escaped {
                walk.decoded.removeAll(keepingCapacity: true)
                MaskingPrefilter.decode(walk.raw, body, into: &walk.decoded)
            }
            let masked: [UInt8]? =
                escaped
                ? walk.decoded.withUnsafeBytes { masker.mask(utf8: $0, report: &report) }
                : masker.mask(utf8: UnsafeRawBufferPointer(rebasing: walk.raw[body]), report: &report)
            guard let masked else { return }
            let place = path(walk)
            report.changed.append((place, Masker.keepsText(place) ? String(decoding: masked, as: UTF8.self) : ""))
            if escaped {
                var token: [UInt8] = []
                JSONWriter.appendString(String(decoding: masked, as: UTF8.self), to: &token)
                splice(&walk, start..<walk.position, with: token)
            } else {
                // The string's own bytes needed no escape, and a replacement needs none: it goes in as it is.
                splice(&walk, body, with: masked)
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            while walk.position < walk.end, (0x61...0x7A).contains(walk.raw[walk.position]) { walk.position += 1 }
        default:
            let start = walk.position
            while walk.position < walk.end {
                let byte = walk.raw[walk.position]
                guard
                    byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                else { break }
                walk.position += 1
            }
            let literal = UnsafeRawBufferPointer(rebasing: walk.raw[start..<walk.position])
            guard let masked = masker.mask(utf8: literal, report: &report) else { return }
            let place = path(walk)
            report.changed.append((place, Masker.keepsText(place) ? String(decoding: masked, as: UTF8.self) : ""))
            splice(&walk, start..<walk.position, with: [UInt8(ascii: "\"")] + masked + [UInt8(ascii: "\"")])
        }
    }

    /// Reads a string token at the opening quote; returns its body's range and whether it holds escapes.
    private func stringToken(_ walk: inout Walk) -> (Range<Int>, Bool) {
        let base = walk.raw.baseAddress!
        let start = walk.position + 1
        var position = start
        var escaped = false
        while position < walk.end {
            guard let found = memchr(base + position, Int32(UInt8(ascii: "\"")), walk.end - position) else {
                position = walk.end
                break
            }
            let at = base.distance(to: UnsafeRawPointer(found))
            var backslashes = 0
            while at - backslashes - 1 >= start, walk.raw[at - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            position = at
            if backslashes % 2 == 0 { break }
            position += 1
        }
        let body = start..<min(position, walk.end)
        if !body.isEmpty, memchr(base + body.lowerBound, Int32(UInt8(ascii: "\\")), body.count) != nil {
            escaped = true
        }
        walk.position = min(position + 1, walk.end)
        return (body, escaped)
    }

    private func splice(_ walk: inout Walk, _ token: Range<Int>, with replacement: [UInt8]) {
        if walk.output == nil {
            walk.output = []
            walk.output!.reserveCapacity(walk.end - walk.copied + 64)
        }
        // In place: `walk.output!` mutates the buffer itself, never a copy of it.
        walk.output!.append(contentsOf: UnsafeRawBufferPointer(rebasing: walk.raw[walk.copied..<token.lowerBound]))
        walk.output!.append(contentsOf: replacement)
        walk.copied = token.upperBound
    }

    /// The path to the current value, as JSON Pointer tokens (only made when something there was masked).
    private func path(_ walk: Walk) -> [String] {
        walk.steps.map { step in
            switch step {
            case .index(let index): return String(index)
            case .key(let body, let escaped):
                guard escaped else {
                    return String(decoding: UnsafeRawBufferPointer(rebasing: walk.raw[body]), as: UTF8.self)
                }
                var bytes: [UInt8] = []
                MaskingPrefilter.decode(walk.raw, body, into: &bytes)
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }
}
