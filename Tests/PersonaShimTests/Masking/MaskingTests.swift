import Foundation
import Testing

@testable import PersonaShim

/// The masker, its prefilter, the schema guard, the outbound check and the persona's `masking` / `secrets`
/// sections, in-process. Planted values: a Luhn-valid card, an AWS access key, an e-mail address.
@Suite struct MaskingTests {
    static let card = "4111 1111 1111 1111"
    static let key = "AKIAZ7Q3KX4M2LBN8WTR"
    static let email = "jane.doe@example.com"

    static func policy(_ masking: String, secrets: String? = nil) throws -> MaskingPolicy {
        let text = """
            {
              "persona": "p", "purpose": "Reads.", "owner": "team", "reviewBy": "2099-01-01",
              "servers": {"crm": {"command": "/bin/true"}},
              "tools": {"allow": ["crm__*"]},
              "masking": \(masking)\(secrets.map { ",\n  \"secrets\": \($0)" } ?? "")
            }
            """
        let loaded = PersonaLoader.decode(bytes: Array(text.utf8), path: "persona.json")
        let persona = try #require(loaded.persona, "\(loaded.diagnostics.map(\.description))")
        return try #require(persona.masking)
    }

    static func errors(_ sections: String) -> [String] {
        let text = """
            {
              "persona": "p", "purpose": "Reads.", "owner": "team", "reviewBy": "2099-01-01",
              "servers": {"crm": {"command": "/bin/true"}},
              "tools": {"allow": ["crm__*"]},
            \(sections)
            }
            """
        return PersonaLoader.decode(bytes: Array(text.utf8), path: "persona.json").diagnostics
            .filter { $0.severity == .error }.map(\.description)
    }

    static func session(_ masking: String = #"{"replacement": "hash"}"#) throws -> SessionMasking {
        SessionMasking(policy: try policy(masking), key: MaskingKey(key: Array(repeating: 7, count: 32)))
    }

    // MARK: The masker over each JSON shape

    @Test func masksStringsAndCardNumbersInEveryShapeAndLeavesKeysAndStructureAlone() throws {
        let masking = try Self.session(#"{"replacement": "label"}"#)
        let value: JSONValue = [
            "content": [["type": "text", "text": .string("Mail \(Self.email), card \(Self.card).")]],
            "structuredContent": [
                "list": [.string(Self.key), 4_111_111_111_111_111, 1_732_969_200_000, true, nil],
                "nested": ["deeper": ["address": .string(Self.email)]],
            ],
            .init(stringLiteral: Self.email): "the key is an address",
        ]
        let (masked, report) = try #require(masking.mask(value, detectors: masking.defaultDetectors))
        #expect(masked["content"]?[0]?["text"] == "Mail [masked:email], card [masked:card].")
        #expect(
            masked["structuredContent"]?["list"] == [
                "[masked:aws-access-key]", "[masked:card]", 1_732_969_200_000, true, nil,
            ],
            "a card number sent as a number becomes the masked text; other numbers stay numbers")
        #expect(masked["structuredContent"]?["nested"]?["deeper"]?["address"] == "[masked:email]")
        #expect(masked[Self.email] == "the key is an address", "keys are not masked")
        #expect(report.counts == ["email": 2, "card": 2, "aws-access-key": 1])
        #expect(report.total == 5)
        #expect(report.changed.map(\.path).contains(["structuredContent", "list", "0"]))
        #expect(masking.mask(["text": "nothing here, 12 apples"], detectors: masking.defaultDetectors) == nil)
    }

    @Test func keyedHashesAreStableWithinASessionAndDifferAcrossSessions() throws {
        let masking = try Self.session()
        let value: JSONValue = ["a": .string(Self.email), "b": .string("again \(Self.email)")]
        let (first, _) = try #require(masking.mask(value, detectors: masking.defaultDetectors))
        let (second, _) = try #require(masking.mask(value, detectors: masking.defaultDetectors))
        let masked = try #require(first["a"]?.stringValue)
        #expect(masked.hasPrefix("[masked:email:") && masked.count == "[masked:email:00000000]".count)
        #expect(first["b"]?.stringValue == "again " + masked, "the same value masks the same way")
        #expect(first == second)
        let other = SessionMasking(policy: masking.policy, key: MaskingKey(key: Array(repeating: 8, count: 32)))
        let (elsewhere, _) = try #require(other.mask(value, detectors: other.defaultDetectors))
        #expect(elsewhere["a"] != first["a"], "another session's key gives another hash")
        let different = try #require(
            masking.mask(["a": "john.roe@example.com"], detectors: masking.defaultDetectors)?.0["a"])
        #expect(different != first["a"])
    }

    @Test func theKeyedHashIsHMACSHA256() {
        let key = MaskingKey(key: Array(0..<32))
        for value in ["", Self.email, String(repeating: "x", count: 200)] {
            let expected = Array(HMAC.sha256(key: Array(0..<32), message: Array(value.utf8)).prefix(16))
            #expect(key.digest(Array(value.utf8)).bytes == expected)
        }
        let long = MaskingKey(key: Array(repeating: 9, count: 100))
        #expect(
            long.digest([1, 2, 3]).bytes
                == Array(HMAC.sha256(key: Array(repeating: 9, count: 100), message: [1, 2, 3]).prefix(16)))
    }

    @Test func exemptionsByPointerValueAndTool() throws {
        let masking = try Self.session(
            #"""
            {"exempt": {"tools": ["crm__lookup*"], "pointers": ["/structuredContent/agentEmail", "/rows/*/owner"],
                        "values": ["support@example.com"]}}
            """#)
        let value: JSONValue = [
            "structuredContent": ["agentEmail": "agent@example.com", "customer": .string(Self.email)],
            "rows": [["owner": "owner@example.com", "card": .string(Self.card)]],
            "content": [
                ["type": "text", "text": .string("agent@example.com and support@example.com and \(Self.email)")]
            ],
        ]
        let extra = masking.exemptStrings(in: value)
        #expect(extra == ["agent@example.com", "owner@example.com"])
        let (masked, report) = try #require(
            masking.mask(value, detectors: masking.defaultDetectors, alsoExempt: extra))
        #expect(masked["structuredContent"]?["agentEmail"] == "agent@example.com")
        #expect(masked["rows"]?[0]?["owner"] == "owner@example.com")
        #expect(masked["rows"]?[0]?["card"] == "[masked:card]")
        #expect(
            masked["content"]?[0]?["text"] == "agent@example.com and support@example.com and [masked:email]",
            "a value exempt by pointer stays in the text form too, so both forms are alike")
        #expect(report.counts == ["email": 2, "card": 1])
        #expect(masking.policy.isExempt(tool: "crm__lookup_customer"))
        #expect(!masking.policy.isExempt(tool: "crm__search"))
    }

    @Test func toolOverridesChooseDetectorsAndTheirUnionApplies() throws {
        let masking = try Self.session(
            #"{"detectors": ["email", "card"], "tools": {"crm__*": {"detectors": ["card"]}, "crm__keys": {"detectors": ["aws-access-key"]}}}"#
        )
        let value: JSONValue = ["t": .string("\(Self.email) \(Self.card) \(Self.key)")]
        func masked(_ tool: String?) -> String? {
            masking.mask(value, detectors: masking.detectors(forTool: tool))?.0["t"]?.stringValue
        }
        #expect(masked(nil) == "[masked:email] [masked:card] \(Self.key)")
        #expect(masked("crm__search") == "\(Self.email) [masked:card] \(Self.key)")
        #expect(masked("crm__keys") == "\(Self.email) [masked:card] [masked:aws-access-key]")
    }

    /// The byte path and the tree path mask alike: the same values, the same replacements, the same counts.
    @Test(arguments: [
        #"{"content":[{"type":"text","text":"Mail jane.doe@example.com, card 4111 1111 1111 1111."}],"isError":false}"#,
        #"{"a":"jane.doe\u0040example.com","b":["x",4111111111111111,{"k":"AKIAZ7Q3KX4M2LBN8WTR"}],"n":1.5e3}"#,
        #"{"esc\"key":"line\nAKIAZ7Q3KX4M2LBN8WTR\t\"quoted\" support@example.com","empty":"","t":true,"f":false,"z":null}"#,
        #"["nothing", 12, -0.5, {"deep": [[["jane.doe@example.com"]]]}]"#,
        #"  {  "spaced" :  "jane.doe@example.com"  ,  "x" : [ 1 , 2 ]  }  "#,
        #""just jane.doe@example.com""#,
        #"{"none":"at all","n":1732969200000}"#,
    ])
    func theBytePathMasksAsTheTreePathDoes(_ json: String) throws {
        let masking = SessionMasking(
            policy: try Self.policy(#"{"replacement": "hash", "exempt": {"values": ["support@example.com"]}}"#),
            key: MaskingKey(key: Array(repeating: 3, count: 32)))
        let bytes = Array(json.utf8)
        let tree = masking.mask(try JSONValue(parsing: json), detectors: masking.defaultDetectors)
        let raw = bytes.withUnsafeBytes { masking.maskBytes($0, 0..<$0.count, detectors: masking.defaultDetectors) }
        #expect((tree == nil) == (raw == nil))
        guard let tree, let raw else { return }
        #expect(try JSONValue(parsing: raw.0) == tree.0, "\(String(decoding: raw.0, as: UTF8.self))")
        #expect(raw.1.counts == tree.1.counts)
        #expect(raw.1.changed.map(\.path) == tree.1.changed.map(\.path))
        #expect(raw.1.changed.map(\.masked) == tree.1.changed.map(\.masked))
    }

    // MARK: The prefilter

    @Test func thePrefilterReadsStringsAsTheAgentWould() throws {
        let detectors = try Self.session().defaultDetectors
        func hit(_ json: String) -> Bool {
            let bytes = Array(json.utf8)
            return bytes.withUnsafeBytes { MaskingPrefilter.mightMask($0, 0..<$0.count, detectors: detectors) }
        }
        #expect(hit(#"{"text":"mail jane.doe@example.com"}"#))
        #expect(hit(#"{"text":"mail jane.doe\u0040example.com"}"#), "an escaped @")
        #expect(hit(#"{"text":"line one\nAKIAZ7Q3KX4M2LBN8WTR"}"#), "a key right after an escaped newline")
        #expect(hit(#"{"a":[1,{"b":"say \"4111 1111 1111 1111\""}]}"#))
        #expect(!hit(#"{"text":"nothing to see","n":1732969200000,"m":[1,2.5e3,-7]}"#))
        #expect(hit(#"{"text":"nothing to see","n":4111111111111111}"#), "a card number sent as a number")
        #expect(hit(#"[4111111111111111]"#) && hit("4111111111111111"))
        #expect(!hit(#"{"jane.doe@example.com":1}"#), "keys are not masked")
        #expect(!hit(#"{"text":"4111 1111 1111 1112"}"#), "fails Luhn")
        #expect(!hit(#"{"text":"ends with a backslash \\","x":"AKIA"}"#))
    }

    @Test func thePrefilterDecodesEscapesAsTheParserDoes() throws {
        for body in [#"plain"#, #"a\"b\\c\/d"#, #"\u00e9\ud83d\ude00 and more"#, #"tab\tnl\ncr\rb\bf\f"#, ""] {
            let quoted = Array("\"\(body)\"".utf8)
            var decoded: [UInt8] = []
            quoted.withUnsafeBytes { MaskingPrefilter.decode($0, 1..<(quoted.count - 1), into: &decoded) }
            let parsed = try #require(try JSONValue(parsing: quoted).stringValue)
            #expect(decoded == Array(parsed.utf8), "\(body)")
        }
    }

    // MARK: Schema validity

    @Test func theSchemaGuardFindsWhatAMaskedStringWouldBreak() throws {
        let schema = try JSONValue(
            parsing: #"""
                {"type": "object", "$defs": {"mail": {"type": "string", "format": "email"}},
                 "properties": {
                   "free": {"type": "string"},
                   "mail": {"$ref": "#/$defs/mail"},
                   "short": {"type": "string", "maxLength": 10},
                   "kind": {"enum": ["a", "b"]},
                   "code": {"type": "string", "pattern": "^\\[masked:[a-z-]+\\]$"},
                   "strict": {"type": "string", "pattern": "^[0-9 ]+$"},
                   "list": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "string", "format": "uri"}]}},
                   "remote": {"$ref": "https://example.com/schema.json"},
                   "map": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 5}}
                 }}
                """#)
        let guardian = OutputSchemaGuard(schema: schema)
        let masked = "[masked:card]"
        #expect(guardian.violation(at: ["free"], masked: masked) == nil)
        #expect(guardian.violation(at: ["mail"], masked: masked)?.contains("format \"email\"") == true)
        #expect(guardian.violation(at: ["short"], masked: masked)?.contains("at most 10") == true)
        #expect(guardian.violation(at: ["kind"], masked: masked) != nil)
        #expect(guardian.violation(at: ["code"], masked: masked) == nil, "a pattern the masked form matches")
        #expect(guardian.violation(at: ["strict"], masked: masked)?.contains("pattern") == true)
        #expect(guardian.violation(at: ["list", "3"], masked: masked)?.contains("uri") == true)
        #expect(guardian.violation(at: ["remote"], masked: masked) != nil, "what cannot be followed counts as broken")
        #expect(guardian.violation(at: ["map", "anything"], masked: masked) != nil)
        #expect(guardian.violation(at: ["undeclared"], masked: masked) == nil)
        let numbers = OutputSchemaGuard(
            schema: ["properties": ["n": ["type": "integer"], "either": ["type": ["integer", "string"]]]])
        #expect(numbers.violation(at: ["n"], masked: masked) == "the schema requires type integer")
        #expect(numbers.violation(at: ["either"], masked: masked) == nil)
    }

    // MARK: Outbound

    @Test func outboundFindsSecretsAndValuesMaskedEarlierButNeverSaysTheValue() throws {
        let masking = try Self.session(#"{"exempt": {"values": ["AKIAEXEMPTEXEMPT1234"]}}"#)
        let secret = try #require(masking.outboundFinding(["body": ["note": .string("key=\(Self.key)")]]))
        #expect(secret == .init(detector: "aws-access-key", pointer: "/body/note", maskedEarlier: false))
        #expect(masking.outboundFinding(["to": .string(Self.email)]) == nil, "an address is no secret by itself")
        _ = masking.mask(["card": 4_111_111_111_111_111], detectors: masking.defaultDetectors)
        #expect(
            masking.outboundFinding(["pay": ["with": 4_111_111_111_111_111]])
                == .init(detector: "card", pointer: "/pay/with", maskedEarlier: true),
            "a number masked earlier")
        #expect(masking.outboundFinding(["k": "AKIAEXEMPTEXEMPT1234"]) == nil, "exempt values stay allowed")
        _ = masking.mask(["text": .string("from \(Self.email)")], detectors: masking.defaultDetectors)
        let echoed = try #require(masking.outboundFinding(["list": [.string("cc \(Self.email)")]]))
        #expect(echoed == .init(detector: "email", pointer: "/list/0", maskedEarlier: true))
        let decision = masking.decision(for: echoed)
        #expect(decision.rule == "secrets.outbound" && decision.isDeny)
        #expect(decision.reason?.contains("/list/0") == true && decision.reason?.contains("jane") == false)
        let asking = SessionMasking(policy: try Self.policy("{}", secrets: #"{"outbound": "ask"}"#))
        #expect(
            asking.decision(for: secret) == .ask(rule: "secrets.outbound", reason: asking.decision(for: secret).reason!)
        )
    }

    // MARK: The persona's sections

    @Test func theSectionsDecodeWithDefaults() throws {
        let plain = try Self.policy("{}")
        #expect(plain.masksResponses && plain.replacement == .label && plain.outbound == .deny)
        #expect(plain.detectorNames == DetectorSet.builtInNames, "absent detectors mean all")
        let custom = try Self.policy(
            #"{"detectors": ["email", "ticket-id"], "patterns": [{"name": "ticket-id", "regex": "T-[0-9]{4}"}]}"#,
            secrets: #"{"outbound": "off"}"#)
        #expect(custom.detectorNames == ["email", "ticket-id"])
        #expect(custom.customPatterns == [CustomPattern(name: "ticket-id", pattern: "T-[0-9]{4}")])
        #expect(custom.outbound == .off)
    }

    @Test func mistakesAreReportedAtTheirLines() {
        let unknown = Self.errors(#"  "masking": {"detectors": ["email", "aws-acess-key"]}"#)
        #expect(
            unknown == [#"persona.json:5:38: error: unknown detector "aws-acess-key" (did you mean "aws-access-key"?)"#]
        )
        #expect(
            Self.errors(#"  "masking": {"detectors": ["zz"]}"#).first?.contains(#"the detectors are "email""#) == true)
        let key = Self.errors(#"  "masking": {"replacment": "hash"}"#)
        #expect(key.first?.contains(#"unknown key "replacment" in "masking" (did you mean "replacement"?)"#) == true)
        #expect(key.first?.hasPrefix("persona.json:5:") == true)
        #expect(
            Self.errors(#"  "masking": {"replacement": "blur"}"#).first?.contains(#""label" or "hash""#) == true)
        #expect(
            Self.errors(#"  "masking": {"patterns": [{"name": "email", "regex": "x"}]}"#).first?.contains(
                "already taken") == true)
        #expect(
            Self.errors(#"  "masking": {"exempt": {"pointers": ["structuredContent"]}}"#).first?.contains(
                "not a JSON Pointer") == true)
        #expect(
            Self.errors(#"  "secrets": {"outbound": "maybe"}"#).first?.contains(#""deny", "ask" or "off""#) == true)
        #expect(Self.errors(#"  "masking": {"tools": {"crm__x": {}}}"#).first?.contains("needs \"detectors\"") == true)
    }
}

/// The persona schema knows the `masking` and `secrets` sections as the decoder does.
@Suite struct MaskingSchemaTests {
    @Test func theSchemaAndTheDecoderAgreeOnMasking() throws {
        let text = try String(
            contentsOfFile: PersonaSchemaTests.root + "/Personas/persona.schema.json", encoding: .utf8)
        let validator = SchemaValidator(root: try JSONValue(parsing: text))
        let persona = #"""
            {"persona": "p", "purpose": "Reads.", "owner": "o", "reviewBy": "2099-01-01",
             "servers": {"crm": {"command": "crm"}}, "tools": {"allow": ["crm__*"]},
             "masking": {"detectors": ["email", "ticket-id"], "patterns": [{"name": "ticket-id", "regex": "T-[0-9]+"}],
                         "replacement": "hash",
                         "exempt": {"tools": ["crm__agent_*"], "pointers": ["/structuredContent/agentEmail", "/rows/*/owner"],
                                    "values": ["support@example.com"]},
                         "tools": {"crm__billing_*": {"detectors": "all"}}},
             "secrets": {"outbound": "ask"}}
            """#
        #expect(validator.errors(try JSONValue(parsing: persona)) == [])
        let loaded = PersonaLoader.decode(bytes: Array(persona.utf8), path: "/p/p.json")
        #expect(!loaded.diagnostics.hasErrors, "\(loaded.diagnostics)")
        for (original, replacement) in [
            (#""replacement": "hash""#, #""replacement": "blur""#),
            (#""outbound": "ask""#, #""outbound": "later""#),
            (#""detectors": "all""#, #""detectors": "some""#),
            (#""values": ["#, #""valuez": ["#),
            (#""name": "ticket-id""#, #""name": "Ticket ID""#),
        ] {
            let broken = persona.replacingOccurrences(of: original, with: replacement)
            #expect(validator.errors(try JSONValue(parsing: broken)) != [], "the schema accepts \(replacement)")
            let refused = PersonaLoader.decode(bytes: Array(broken.utf8), path: "/p/p.json")
            #expect(refused.diagnostics.hasErrors, "the decoder accepts \(replacement)")
        }
    }
}
