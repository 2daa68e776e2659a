// The per-call rules of the "shim + rules" setup.

import MCPWire

extension Workspace {
    /// What `--policy-tools` adds to a fixture; the rules setup runs with it, so one tool's text is cleaned.
    static let policyTools = 7

    /// Every kind of per-call rule, none of which refuses a call the benchmark makes: an argument rule on the
    /// echo tool it calls (and on blob), a rate limit and a session budget too high to reach, a behaviour
    /// baseline whose repeat window remembers as many calls as it can (every echo call is the same call, so each
    /// judgement scans the whole window), a flow the echo tool taints, annotation overrides, and data-class labels
    /// (every call's classes are looked up and checked against the persona's). What they cost
    /// per call is what this setup measures against "shim".
    static var callRules: [(String, JSONValue)] {
        [
            (
                "rules",
                [
                    [
                        "id": "echo-arguments", "tools": ["fx1__echo"],
                        "require": [
                            "text": ["type": "string", "maxLength": 200, "pattern": "^hello"],
                            "n": ["type": "integer", "minimum": 0, "maximum": 100],
                        ],
                    ],
                    ["id": "blob-size", "tools": ["fx1__blob"], "require": ["bytes": ["maximum": 100_000_000]]],
                ]
            ),
            (
                "limits",
                [
                    ["id": "rate", "tools": ["fx1__*"], "calls": 100_000, "per": "1h"],
                    ["id": "budget", "calls": 100_000],
                ]
            ),
            ("behaviour", ["repeats": ["max": 5_000, "within": "1h"], "failures": 100, "probes": 100]),
            (
                "labels",
                [
                    "tools": [
                        "fx1__echo": ["untrusted-input"], "fx1__tool_0*": ["private-data"],
                        "fx1__tool_1*": ["egress"],
                    ]
                ]
            ),
            (
                "flows",
                [["id": "no-exfiltration", "from": ["untrusted-input", "private-data"], "to": ["egress"]]]
            ),
            ("annotations", ["fx1__tool_00*": ["readOnlyHint": true], "fx1__refund": ["destructiveHint": true]]),
            (
                "dataClasses",
                [
                    "allow": ["bench.records", "bench.echo"], "servers": ["fx1": ["bench.records"]],
                    "tools": ["fx1__echo": ["bench.echo"], "fx1__tool_1*": ["bench.records"]],
                ]
            ),
        ]
    }
}
