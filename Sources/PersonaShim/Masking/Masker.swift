/// Masks the strings of one JSON value in place: each detection becomes `[masked:NAME]` or `[masked:NAME:HASH]`,
/// everything else (structure, keys, the text around a detection) stays as it was. A number whose digits hold a
/// detection (a card number sent as a number) becomes the masked text, a string: the value must go, and the schema
/// guard then says whether the result can stay. Object keys are not masked: they name fields, and a renamed field
/// would break the result's shape.
struct Masker {
    let detectors: DetectorSet
    let replacement: MaskingPolicy.Replacement
    let key: MaskingKey
    /// Pointers (relative to the masked value) whose values are left alone.
    let exemptPointers: [[String]]
    /// Detected text equal to one of these is left alone.
    var exemptValues: Set<String>

    /// What one pass masked: counts per detector, where, and the keyed digests of the values (never the values).
    struct Report {
        var counts: [String: Int] = [:]
        /// Pointers of the strings that changed, with their masked text where the schema guard reads it (under
        /// `structuredContent`; elsewhere empty, so a large text is not held twice).
        var changed: [(path: [String], masked: String)] = []
        var digests: [MaskingKey.Digest] = []
        /// Digests already made in this message: a value repeated (a customer's address on every row) is hashed once.
        var known: [[UInt8]: MaskingKey.Digest] = [:]
        var isEmpty: Bool { counts.isEmpty }
        var total: Int { counts.values.reduce(0, +) }
    }

    func mask(_ value: JSONValue, report: inout Report) -> JSONValue {
        var path: [String] = []
        return mask(value, path: &path, report: &report)
    }

    private func mask(_ value: JSONValue, path: inout [String], report: inout Report) -> JSONValue {
        if !exemptPointers.isEmpty, MaskingPointer.isExempt(path, exemptPointers) { return value }
        switch value {
        case .string(let text):
            guard let masked = mask(text, report: &report) else { return value }
            report.changed.append((path, Self.keepsText(path) ? masked : ""))
            return .string(masked)
        case .array(let elements):
            var result = elements
            for index in elements.indices {
                path.append(String(index))
                result[index] = mask(elements[index], path: &path, report: &report)
                path.removeLast()
            }
            return .array(result)
        case .object(let object):
            var result = object
            for index in object.members.indices {
                path.append(object.members[index].key)
                result.members[index].value = mask(object.members[index].value, path: &path, report: &report)
                path.removeLast()
            }
            return .object(result)
        case .number(let literal):
            guard let masked = mask(literal, report: &report) else { return value }
            report.changed.append((path, Self.keepsText(path) ? masked : ""))
            return .string(masked)
        case .null, .bool:
            return value
        }
    }

    /// The masked text, or nil when nothing in it is masked.
    func mask(_ text: String, report: inout Report) -> String? {
        var text = text
        return text.withUTF8 { mask(utf8: UnsafeRawBufferPointer($0), report: &report) }.map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The masked bytes of UTF-8 text, or nil when nothing in it is masked.
    func mask(utf8: UnsafeRawBufferPointer, report: inout Report) -> [UInt8]? {
        let detections = detectors.scan(utf8)
        if detections.isEmpty { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count + 32)
        var position = 0
        var changed = false
        for detection in detections {
            // Detections come sorted and apart; should one overlap the last, what is left of it is still masked.
            let clamped = detection.range.clamped(to: 0..<utf8.count)
            let range = max(clamped.lowerBound, position)..<max(clamped.upperBound, position)
            guard !range.isEmpty else { continue }
            let found = Array(utf8[range])
            if !exemptValues.isEmpty, exemptValues.contains(String(decoding: found, as: UTF8.self)) { continue }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[position..<range.lowerBound]))
            let digest = report.known[found] ?? key.digest(found)
            report.known[found] = digest
            output += Array(replacementText(detection.detector, digest).utf8)
            position = range.upperBound
            changed = true
            report.counts[detection.detector, default: 0] += 1
            report.digests.append(digest)
        }
        guard changed else { return nil }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[position...]))
        return output
    }

    /// Whether a change at `path` keeps its masked text in the report (the schema guard reads it there).
    static func keepsText(_ path: [String]) -> Bool { path.first == "structuredContent" }

    func replacementText(_ detector: String, _ digest: MaskingKey.Digest) -> String {
        switch replacement {
        case .label: "[masked:\(detector)]"
        case .hash: "[masked:\(detector):\(digest.shortHex)]"
        }
    }
}

/// The session's masking key: a random 32-byte key made per session, so a keyed hash of a value means nothing
/// outside the session (no dictionary of card numbers can reverse it) and two sessions cannot be joined.
struct MaskingKey: Sendable {
    struct Digest: Hashable, Sendable {
        /// The first 16 bytes of HMAC-SHA256(key, value): ample against collisions, and not the value.
        let bytes: [UInt8]

        /// The 8 hex digits shown in `[masked:NAME:HASH]`.
        var shortHex: String {
            let digits = Array("0123456789abcdef".utf8)
            var text: [UInt8] = []
            for byte in bytes.prefix(4) {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }

    let key: [UInt8]
    /// HMAC's inner and outer hashes with the padded key already absorbed: each digest then costs the message's
    /// blocks and one more, not two more, and allocates nothing for the pads.
    private let inner: SHA256
    private let outer: SHA256

    init(key: [UInt8]) {
        self.key = key
        var block = key.count > 64 ? SHA256.hash(key) : key
        block.append(contentsOf: repeatElement(0, count: 64 - block.count))
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        (self.inner, self.outer) = (inner, outer)
    }

    static func random() -> MaskingKey {
        var generator = SystemRandomNumberGenerator()
        return MaskingKey(key: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// HMAC-SHA256(key, value), cut to 16 bytes.
    func digest(_ value: [UInt8]) -> Digest {
        var innerHash = inner
        innerHash.update(value)
        var outerHash = outer
        outerHash.update(innerHash.finalize())
        return Digest(bytes: Array(outerHash.finalize().prefix(16)))
    }
}
