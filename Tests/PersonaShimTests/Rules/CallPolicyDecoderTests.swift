import Testing

@testable import PersonaShim

@Suite struct CallPolicyDecoderTests {
    /// A persona whose per-call sections are `sections` (a fragment of members, each line after the tools line).
    func load(_ sections: String) -> PersonaLoadResult {
        let text = """
            {
              "persona": "refunds", "purpose": "Handles refunds.", "owner": "team", "reviewBy": "2099-01-01",
              "servers": {"billing": {"command": "/bin/true"}},
              "tools": {"allow": ["billing__*"]},
            \(sections)
            }
            """
        return PersonaLoader.decode(bytes: Array(text.utf8), path: "persona.json")
    }

    func errors(_ sections: String) -> [String] {
        load(sections).diagnostics.filter { $0.severity == .error }.map(\.description)
    }

    let example = """
          "mode": "monitor",
          "readOnly": false,
          "rules": [
            {"id": "big-refunds", "tools": ["billing__refund"], "when": {"/amount": {"exclusiveMinimum": 100}},
             "decision": "ask", "reason": "Refunds above 100 need a person"},
            {"id": "currencies", "tools": ["billing__*"], "require": {"currency": {"enum": ["EUR", "USD"], "ifPresent": true}}},
            {"id": "files", "tools": ["billing__export"], "require": {"/options/path": {"under": ["/srv/exports"], "notUnder": ["/srv/exports/private"]}}},
            {"id": "webhooks", "tools": ["billing__notify"], "require": {"url": {"hosts": {"allow": ["*.example.com"], "deny": ["127.0.0.1"]}, "pattern": "^https://"}}},
            {"id": "no-rm", "tools": ["*"], "when": {"note": {"not": {"maxLength": 1000}, "type": "string", "ifPresent": true}}}
          ],
          "limits": [
            {"id": "refunds-per-day", "tools": ["billing__refund"], "calls": 20, "per": "1d", "acrossSessions": true},
            {"id": "billing-rate", "servers": ["billing"], "calls": 60, "per": "1m"},
            {"id": "session", "calls": 500}
          ],
          "behaviour": {"repeats": {"max": 3, "within": "1m"}, "failures": 5, "probes": 3, "coolDown": "5m"},
          "labels": {"tools": {"billing__read_email": ["untrusted-input"]}, "servers": {"billing": ["private-data"]}},
          "flows": [{"id": "no-exfiltration", "from": ["untrusted-input"], "to": ["egress"], "decision": "ask"}],
          "annotations": {"billing__get_*": {"readOnlyHint": true}, "billing__refund": {"destructiveHint": true}}
        """

    @Test func theDocumentedExampleLoads() throws {
        let result = load(example)
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        let persona = try #require(result.persona)
        #expect(persona.mode == .monitor)
        let policy = persona.callPolicy
        #expect(policy.rules.rules.map(\.id) == ["big-refunds", "currencies", "files", "webhooks", "no-rm"])
        #expect(policy.limits.map(\.id) == ["refunds-per-day", "billing-rate", "session"])
        #expect(policy.limits[0].per?.nanoseconds == 86_400_000_000_000)
        #expect(policy.limits[1].scope == .servers(["billing"]))
        #expect(policy.behaviour.onBreach == .coolDown(RuleInterval("5m")!))
        #expect(policy.flows.flows.map(\.id) == ["no-exfiltration"])
        #expect(
            policy.flows.labels(tool: "billing__read_email", server: "billing") == ["private-data", "untrusted-input"])
        #expect(!policy.isEmpty)
        let hints = policy.annotations(for: "billing__get_invoice", declared: ToolHints(readOnlyHint: false))
        #expect(hints.readOnlyHint == true)
        let paths = PathResolver(fileSystem: FakeFileSystem(entries: [:]), home: "/h", workingDirectory: "/")
        let refund = policy.rules.rules(for: "billing__refund")
        #expect(refund.evaluate(["amount": .number("100.5")], paths: paths).rule == "big-refunds")
        #expect(refund.evaluate(["amount": 100], paths: paths) == .allow)
    }

    @Test func theExampleInDocsLoads() throws {
        // Tests/PersonaShimTests/Rules/<this file> → the package root.
        var root = "\(#filePath)"
        for _ in 0..<4 { root = Paths.directory(of: root) }
        let markdown = String(decoding: try #require(Files.read(root + "/docs/policy.md")), as: UTF8.self)
        let start = try #require(markdown.range(of: "```json\n"))
        let end = try #require(markdown[start.upperBound...].range(of: "```"))
        let json = Array(markdown[start.upperBound..<end.lowerBound].utf8)
        let result = PersonaLoader.decode(bytes: json, path: "docs/policy.md")
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        #expect(result.persona?.callPolicy.rules.rules.count == 5)
    }

    @Test func repeatedArgumentKeysNeverReachTheRules() {
        // Which copy a server would use is a guess; the parser refuses the arguments instead.
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: #"{"amount": 1, "amount": 500}"#) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: #"{"o": {"path": "/a", "path": "/etc"}}"#) }
    }

    @Test func aPersonaWithoutTheSectionsHasAnEmptyPolicy() throws {
        let persona = try #require(load("\"audit\": {}").persona)
        #expect(persona.callPolicy.isEmpty)
        #expect(persona.mode == .enforce)
    }

    @Test func mistakesAreReportedWhereTheyAre() {
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"a": {"minimun": 1}}}]"#)
                == [
                    #"persona.json:5:43: error: unknown key "minimun" in argument conditions (did you mean "minimum"?)"#
                ])
        #expect(
            errors(#""rules": [{"tols": ["x"], "require": {"a": {"type": "string"}}}]"#).first
                == #"persona.json:5:12: error: unknown key "tols" in a rule (did you mean "tools"?)"#)
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"a": {"maximum": "100"}}}]"#)
                == [
                    #"persona.json:5:54: error: "maximum" must be a number, not a string (write the number without quotes)"#
                ])
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"a": {"pattern": "a(b"}}}]"#).first?.contains(
                #"5:54: error: invalid pattern "a(b": "#) == true)
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"/a~2": {"type": "string"}}}]"#).first?.contains(
                #"5:37: error: "/a~2" is not a valid JSON Pointer"#) == true)
        #expect(
            errors(#""limits": [{"calls": 5, "per": "1 min"}]"#)
                == [
                    #"persona.json:5:32: error: "per" must be a whole number and a unit, s, m, h or d (such as "30s", "1m", "1h", "1d"; at most a year), not "1 min""#
                ])
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"a": {"type": "str"}}, "decision": "allow"}]"#).first?
                .contains(
                    #""decision" must be "deny" or "ask", not "allow""#) == true)
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"a": {"type": "str"}}}]"#).first?.contains(
                "\"type\" must be one of") == true)
        #expect(errors(#""rules": [{"tools": ["x"]}]"#).first?.contains("needs \"when\"") == true)
        #expect(
            errors(#""rules": [{"tools": ["x"], "strictArguments": false}]"#).first?.contains("must be true") == true)
        #expect(errors(#""rules": [{"when": {"a": {"type": "string"}}}]"#).first?.contains("needs \"tools\"") == true)
        #expect(errors(#""limits": [{"calls": 0}]"#).first?.contains("\"calls\" must be a whole number") == true)
        #expect(errors(#""limits": [{"calls": 5, "acrossSessions": true}]"#).first?.contains("needs \"per\"") == true)
        #expect(errors(#""behaviour": {"repeats": {"max": 3}}"#).first?.contains("\"within\"") == true)
        #expect(errors(#""labels": {"tools": {"x": ["Egress"]}}"#).first?.contains("lower-case") == true)
        #expect(errors(#""flows": [{"from": ["a"], "to": ["b"], "decision": "maybe"}]"#).count == 1)
        #expect(
            errors(#""annotations": {"x": {"readOnlyHnt": true}}"#).first?.contains("did you mean \"readOnlyHint\"")
                == true)
        #expect(errors(#""mode": "observe""#).first?.contains("\"enforce\" and \"monitor\"") == true)
        #expect(
            errors(#""rules": [{"tools": ["x"], "when": {"u": {"hosts": {"allow": ["exa mple.com"]}}}}]"#).first?
                .contains("host pattern \"exa mple.com\" cannot be used") == true)
        #expect(
            errors(
                #""rules": [{"id": "a", "tools": ["x"], "when": {"u": {}}}, {"id": "a", "tools": ["x"], "when": {"u": {}}}]"#
            )
            .first?.contains("used twice") == true)
    }
}
