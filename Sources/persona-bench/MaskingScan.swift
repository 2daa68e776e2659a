// The masking scan section: detector throughput on 8 MiB texts, POSIX against Swift Regex for a persona's own
// pattern, and the Python reference masker beside it.

import Foundation
import PersonaShim
import Platform

/// One measured scan: what, how many bytes, the median seconds, and what it found.
struct ScanFigure {
    let label: String
    let bytes: Int
    let seconds: Double
    let detections: Int

    var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
}

/// What the section measured, for the summary and `--json`.
struct MaskingScanResult {
    var figures: [ScanFigure] = []
    var reference: [ScanFigure] = []
    var referenceNote = ""
    /// Clean-text throughput with every built-in on, against the 300 MB/s bar.
    var cleanThroughput = 0.0
}

enum MaskingScan {
    /// A persona's own pattern of the kind the issue expects (order and invoice numbers).
    static let customPattern = "(ORD|INV)-[0-9]{4}-[0-9]{6}"

    static func run(
        bytes: Int, repeats: Int, perDetector: Bool, workspace: Workspace
    ) throws(BenchFailure) -> MaskingScanResult {
        var result = MaskingScanResult()
        let clean = MaskingTexts.clean(bytes: bytes)
        let secrets = MaskingTexts.withSecrets(bytes: bytes)
        let all: DetectorSet
        let posix: DetectorSet
        do {
            all = try DetectorSet(builtIn: DetectorSet.builtInNames)
            posix = try DetectorSet(builtIn: [], custom: [CustomPattern(name: "order", pattern: customPattern)])
        } catch {
            throw BenchFailure("the masking detectors did not build: \(error)")
        }
        let size = bytes % 1_048_576 == 0 ? "\(bytes / 1_048_576) MiB" : "\(bytes / 1024) KiB"
        let cleanFigure = measure("built-ins, \(size) without secrets", clean, repeats) { all.scan($0).count }
        let secretFigure = measure("built-ins, \(size), a secret every KiB", secrets.text, repeats) {
            all.scan($0).count
        }
        let planted = secrets.planted.values.reduce(0, +)
        guard cleanFigure.detections == 0, secretFigure.detections == planted else {
            let stray = all.scan(String(decoding: clean, as: UTF8.self)).first.map {
                "; the first in the clean text: \($0.detector) \"\(String(decoding: clean[$0.range], as: UTF8.self))\""
            }
            throw BenchFailure(
                "the detectors found \(cleanFigure.detections) values in the clean text (0 planted) and "
                    + "\(secretFigure.detections) in the text with secrets (\(planted) planted)\(stray ?? "")")
        }
        result.figures += [cleanFigure, secretFigure]
        if perDetector {
            for name in DetectorSet.builtInNames {
                guard let one = try? DetectorSet(builtIn: [name]) else { continue }
                result.figures.append(
                    measure("  \(name) alone, without secrets", clean, repeats) { one.scan($0).count })
            }
            let none = try! DetectorSet(builtIn: [], custom: [])
            result.figures.append(measure("  no detector (the call itself)", clean, repeats) { none.scan($0).count })
        }
        result.cleanThroughput = cleanFigure.megabytesPerSecond
        result.figures.append(
            measure("persona pattern, POSIX regexec, \(size)", clean, repeats) { posix.scan($0).count })
        result.figures.append(swiftRegexFigure(clean, size: size))
        (result.reference, result.referenceNote) = python(
            [("\(size) without secrets", clean), ("\(size), a secret every KiB", secrets.text)], repeats: repeats,
            workspace: workspace)
        return result
    }

    /// This thread's CPU time in nanoseconds: on a machine other work shares, a scan's own cost (wall time would
    /// count the time the scheduler gave to others).
    static func threadNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The median CPU time of `repeats` scans after one unmeasured.
    private static func measure(
        _ label: String, _ text: [UInt8], _ repeats: Int, _ scan: (UnsafeRawBufferPointer) -> Int
    ) -> ScanFigure {
        text.withUnsafeBytes { buffer in
            let detections = scan(buffer)
            var samples: [Double] = []
            for _ in 0..<repeats {
                let started = threadNanoseconds()
                _ = scan(buffer)
                samples.append(Double(threadNanoseconds() - started) / 1e9)
            }
            return ScanFigure(
                label: label, bytes: text.count, seconds: Stats.median(samples) ?? .nan, detections: detections)
        }
    }

    /// Swift `Regex` over the same text as a `String`, once (it is far slower; one run says enough).
    private static func swiftRegexFigure(_ text: [UInt8], size: String) -> ScanFigure {
        let string = String(decoding: text, as: UTF8.self)
        let label = "persona pattern, Swift Regex, \(size)"
        guard let regex = try? Regex(customPattern) else {
            return ScanFigure(label: label + " (did not compile)", bytes: text.count, seconds: .nan, detections: 0)
        }
        let started = threadNanoseconds()
        let count = string.matches(of: regex).count
        let seconds = Double(threadNanoseconds() - started) / 1e9
        return ScanFigure(label: label, bytes: text.count, seconds: seconds, detections: count)
    }

    /// Benchmarks/reference_masker.py (the same detectors with Python's `re`) on the same texts, if `python3` runs.
    private static func python(
        _ texts: [(String, [UInt8])], repeats: Int, workspace: Workspace
    ) -> ([ScanFigure], String) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/reference_masker.py").path
        guard FileManager.default.fileExists(atPath: script) else {
            return ([], "skipped: \(script) is not there")
        }
        var paths: [String] = []
        for (index, (_, bytes)) in texts.enumerated() {
            let path = workspace.folder + "/masking-text-\(index).txt"
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                return ([], "skipped: cannot write \(path)")
            }
            paths.append(path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--repeats", String(repeats)] + paths
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return ([], "skipped: python3 could not be started (\(error))")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return ([], "skipped: python3 is not available or the reference failed (exit \(process.terminationStatus))")
        }
        // One line per file: path, seconds (median), detections.
        var figures: [ScanFigure] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let index = paths.firstIndex(of: String(fields[0])),
                let seconds = Double(fields[1]), let count = Int(fields[2])
            else { continue }
            figures.append(
                ScanFigure(
                    label: "Python re reference, " + texts[index].0, bytes: texts[index].1.count, seconds: seconds,
                    detections: count))
        }
        guard figures.count == texts.count else { return ([], "skipped: the reference printed unexpected output") }
        return (figures, "")
    }

    static func printSection(_ result: MaskingScanResult, verdict: String) {
        print(
            "\n== masking scan: every built-in detector on, one DetectorSet.scan per text; median thread CPU time "
                + "(Python: process CPU time) ==")
        print(
            "  " + pad("scan", 52) + pad("MB/s", 10, right: true) + pad("ms", 10, right: true)
                + pad("found", 8, right: true))
        for figure in result.figures + result.reference {
            print(
                "  " + pad(figure.label, 52) + pad(format(figure.megabytesPerSecond, decimals: 0), 10, right: true)
                    + pad(format(figure.seconds * 1000, decimals: 1), 10, right: true)
                    + pad(String(figure.detections), 8, right: true))
        }
        if !result.referenceNote.isEmpty { print("  Python reference: \(result.referenceNote)") }
        print(
            "  built-ins on text without secrets: \(format(result.cleanThroughput, decimals: 0)) MB/s   bar ≥ 300 MB/s   "
                + verdict)
    }
}
