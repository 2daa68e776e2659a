import Testing

@testable import PersonaShim

/// The corpus with every planted value found exactly (detector and substring) and nothing else.
@Suite struct DetectorCorpusTests {
    /// A corpus text without its markers, and the planted values with their UTF-8 ranges.
    struct Planted {
        var text = ""
        var expected: [Detection] = []

        init(_ marked: String) {
            var bytes: [UInt8] = []
            var rest = Substring(marked)
            while let open = rest.range(of: "⟦") {
                bytes += rest[..<open.lowerBound].utf8
                let close = rest.range(of: "⟧", range: open.upperBound..<rest.endIndex)!
                let inside = rest[open.upperBound..<close.lowerBound]
                let colon = inside.firstIndex(of: ":")!
                let value = inside[inside.index(after: colon)...].utf8
                expected.append(
                    Detection(detector: String(inside[..<colon]), range: bytes.count..<bytes.count + value.count))
                bytes += value
                rest = rest[close.upperBound...]
            }
            bytes += rest.utf8
            text = String(decoding: bytes, as: UTF8.self)
        }

        func substring(_ range: Range<Int>) -> String {
            String(decoding: Array(text.utf8)[range], as: UTF8.self)
        }
    }

    static let allDetectors = try! DetectorSet(builtIn: DetectorSet.builtInNames)

    /// Detections that are not planted values, over the whole corpus: measured 0.
    static let measuredFalsePositives = 0

    @Test func everyPlantedValueFoundExactlyAndNothingElse() {
        var falsePositives = 0
        var found = Set<String>()
        for marked in DetectorCorpus.all {
            let planted = Planted(marked)
            let detections = Self.allDetectors.scan(planted.text)
            for missing in planted.expected where !detections.contains(missing) {
                Issue.record("missed \(missing.detector): \(planted.substring(missing.range))")
            }
            for extra in detections where !planted.expected.contains(extra) {
                falsePositives += 1
                print("false positive \(extra.detector): \(planted.substring(extra.range))")
            }
            found.formUnion(detections.filter(planted.expected.contains).map(\.detector))
        }
        print("detector corpus: \(falsePositives) false positives")
        #expect(falsePositives == Self.measuredFalsePositives)
        #expect(found == Set(DetectorSet.builtInNames), "every built-in detector has a planted value")
    }

    @Test func theCorpusPlantsEveryDetectorAndNearMisses() {
        let planted = DetectorCorpus.all.map(Planted.init)
        let names = Set(planted.flatMap(\.expected).map(\.detector))
        #expect(names == Set(DetectorSet.builtInNames))
        #expect(planted.flatMap(\.expected).count >= 45)
    }

    /// Each detector alone finds exactly its own planted values: a detector does not depend on another being on,
    /// and switching one off does not hide another's values.
    @Test(arguments: DetectorSet.builtInNames) func eachDetectorAlone(_ name: String) throws {
        let single = try DetectorSet(builtIn: [name])
        for marked in DetectorCorpus.all {
            let planted = Planted(marked)
            let expected = planted.expected.filter { $0.detector == name }
            let detections = single.scan(planted.text)
            for missing in expected where !detections.contains(missing) {
                // A value another detector wins on overlap (a JWT after `Bearer`) may be claimed here instead.
                Issue.record("missed \(missing.detector): \(planted.substring(missing.range))")
            }
            for extra in detections where !expected.contains(extra) && !Self.shadowed(extra, planted.expected) {
                Issue.record("unexpected \(extra.detector): \(planted.substring(extra.range))")
            }
        }
    }

    /// A detection alone that the full set gives to a higher-priority detector at the same place.
    static func shadowed(_ detection: Detection, _ expected: [Detection]) -> Bool {
        expected.contains { $0.range == detection.range && $0.detector != detection.detector }
    }
}
