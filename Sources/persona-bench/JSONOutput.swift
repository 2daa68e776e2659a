// --json FILE: every raw figure, for comparing runs.

import Foundation
import MCPWire
import PersonaShim

extension Run {
    /// Writes the options, every session's figures, the medians and the bar outcomes as one JSON document.
    func writeJSON(to path: String, seconds: Double) throws(BenchFailure) {
        var document = JSONObject([
            ("smoke", .bool(options.smoke)),
            ("build", .string(Self.buildKind)),
            ("rounds", .integer(options.rounds)),
            ("seconds", number(seconds)),
            (
                "plan",
                [
                    "calls": .integer(options.plan.calls), "warmup": .integer(options.plan.warmup),
                    "pipelined": .integer(options.plan.pipelined), "window": .integer(options.plan.window),
                    "listRepeats": .integer(options.plan.listRepeats),
                    "blobRepeats": .integer(options.plan.blobRepeats),
                ]
            ),
            ("setups", .array(setups.map { ["id": .string($0.id), "label": .string($0.label)] })),
            ("sessions", .array(sessions.map(sessionJSON))),
            ("medians", mediansJSON(sessions, setups)),
            (
                "bars",
                .array(
                    outcomes.map { outcome in
                        [
                            "setup": .string(outcome.bar.setup), "metric": .string(outcome.bar.metric.rawValue),
                            "bar": .string(outcome.bar.text), "passed": outcome.passed.map(JSONValue.bool) ?? .null,
                        ]
                    })
            ),
        ])
        if let durability {
            document["durability"] = [
                "sessions": .array(durability.sessions.map(sessionJSON)),
                "medians": mediansJSON(durability.sessions, durability.setups),
            ]
        }
        if let flatness {
            document["flatness"] = [
                "setup": .string(flatness.setup), "seconds": number(flatness.seconds),
                "samples": .array(
                    flatness.samples.map {
                        ["calls": .integer($0.calls), "rssKB": .integer($0.rss), "peakKB": .integer($0.peak)]
                    }),
            ]
        }
        if let maskingScan {
            document["maskingScan"] = .array(
                (maskingScan.figures + maskingScan.reference).map {
                    [
                        "scan": .string($0.label), "bytes": .integer($0.bytes), "seconds": number($0.seconds),
                        "megabytesPerSecond": number($0.megabytesPerSecond), "detections": .integer($0.detections),
                    ]
                })
            if !maskingScan.referenceNote.isEmpty { document["maskingReference"] = .string(maskingScan.referenceNote) }
        }
        let text = JSONWriter.string(.object(document)) + "\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw BenchFailure("cannot write \(path)")
        }
    }

    private func sessionJSON(_ session: SessionResult) -> JSONValue {
        var object = JSONObject([("setup", .string(session.setup)), ("round", .integer(session.round + 1))])
        for metric in Metric.allCases {
            if let value = session.values[metric] { object[metric.rawValue] = number(value) }
        }
        if !session.notes.isEmpty { object["notes"] = .array(session.notes.map(JSONValue.string)) }
        return .object(object)
    }

    private func mediansJSON(_ sessions: [SessionResult], _ setups: [Setup]) -> JSONValue {
        let report = Report(setups: setups.map { ($0.id, $0.label) }, sessions: sessions, reference: "", bars: [])
        let medians = report.medians
        return .object(
            JSONObject(
                setups.map { setup in
                    let values = medians[setup.id] ?? [:]
                    let members = Metric.allCases.compactMap { metric in
                        values[metric].map { (key: metric.rawValue, value: number($0)) }
                    }
                    return (key: setup.id, value: .object(JSONObject(members)))
                }))
    }

    private func number(_ value: Double) -> JSONValue {
        value.isFinite ? .number(format(value, decimals: 3)) : .null
    }
}
