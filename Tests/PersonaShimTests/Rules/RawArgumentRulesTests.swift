import Testing

@testable import MCPWire
@testable import PersonaShim

/// Argument rules judged from the arguments' bytes must allow exactly what the decoded evaluation allows, and
/// leave every other call to it.
@Suite struct RawArgumentRulesTests {
    let paths = PathResolver(fileSystem: FakeFileSystem(entries: [:]), home: "/home/me", workingDirectory: "/")

    func rules(_ kind: ArgumentRule.Kind, _ conditions: [ArgumentCondition]) -> ToolArgumentRules {
        ToolArgumentRules(
            rules: [ArgumentRule(id: "r", tools: [Glob("*")], kind: kind, conditions: conditions)], declared: nil)
    }

    /// Whether the byte reading allowed the call; fails the test if it allowed one the decoded reading does not.
    func judge(_ rules: ToolArgumentRules, _ json: String) -> Bool {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBytes { raw in
            let decoded = try! JSONValue.parse(raw)
            let full = rules.evaluate(decoded, paths: paths)
            let fast = rules.allowsWithoutDecoding(raw, 0..<raw.count)
            #expect(!fast || full == .allow, "\(json)")
            return fast
        }
    }

    let arguments = [
        #"{}"#, #"{"text":"hello world","n":7}"#, #"{"n":7,"text":"hello"}"#, #"{"text":"hell","n":7}"#,
        #"{"text":"hello\u0041","n":7}"#, #"{"text":"héllo wörld","n":7}"#, #"{"text":7,"n":"7"}"#,
        #"{"text":"hello","n":7.0}"#, #"{"text":"hello","n":7.5}"#, #"{"text":"hello","n":-1}"#,
        #"{"text":"hello","n":1e2}"#, #"{"text":"hello","n":100.0000001}"#, #"{"text":"hello","n":1e99999999999}"#,
        #"{"text":null,"n":true}"#, #"{"text":["hello"],"n":{}}"#, #"{"K\u0065y":"hello","n":7}"#,
        #"{"\u212Aey":"hello","n":7}"#, #"{"tëxt":"hello","text":"hello","n":7}"#,
        #"{ "text" : "hello" , "n" : 0 }"#, #"{"text":"","n":100}"#, #"{"text":"helloooooo","n":3}"#,
        #"{"nested":{"text":"hello"},"n":7}"#, #"{"n":-0}"#, #"{"n":-5}"#, #"{"n":-6}"#,
        #"{"n":123456789012345678901}"#, #"{"nested":["hello"],"n":7}"#, #"{"nested":"hello","n":7}"#,
    ]

    @Test func requireRulesAllowOnlyWhatTheDecodedArgumentsAllow() throws {
        let hello = try PosixRegex("^hello")
        let words = try PosixRegex("^[a-z]+( [a-z]+)*$")
        let conditionSets: [[ArgumentCondition]] = [
            [
                ArgumentCondition(try JSONPointer("text"), [.type([.string]), .maxLength(8), .pattern(hello)]),
                ArgumentCondition(
                    try JSONPointer("n"),
                    [.type([.integer]), .minimum(DecimalNumber("0")!), .maximum(DecimalNumber("100")!)]),
            ],
            [ArgumentCondition(try JSONPointer("text"), [.minLength(5), .pattern(words)], ifPresent: true)],
            [ArgumentCondition(try JSONPointer("/nested/text"), [.pattern(hello)], ifPresent: true)],
            [ArgumentCondition(try JSONPointer("/nested/text"), [.pattern(hello)])],
            [ArgumentCondition(try JSONPointer("Key"), [.type([.string, .null])], ifPresent: true)],
            [ArgumentCondition(try JSONPointer("n"), [.type([.number]), .exclusiveMaximum(DecimalNumber("100")!)])],
            [ArgumentCondition(try JSONPointer(""), [.type([.object])])],
            [
                ArgumentCondition(
                    try JSONPointer("n"), [.minimum(DecimalNumber("-5.5")!), .maximum(DecimalNumber("1e2")!)]),
                ArgumentCondition(try JSONPointer("text"), [.type([.string, .number])], ifPresent: true),
            ],
            [ArgumentCondition(try JSONPointer("n"), [.exclusiveMinimum(DecimalNumber("0")!), .type([.number])])],
        ]
        var allowed = 0
        for conditions in conditionSets {
            for json in arguments where judge(rules(.require, conditions), json) { allowed += 1 }
        }
        #expect(allowed > 20)
        #expect(judge(rules(.require, conditionSets[0]), #"{"text":"hello wor","n":7}"#) == false)
        #expect(judge(rules(.require, conditionSets[0]), #"{"text":"hello wo","n":7}"#) == true)
    }

    @Test func whenRulesAllowOnlyWhatTheDecodedArgumentsAllow() throws {
        let conditionSets: [[ArgumentCondition]] = [
            [ArgumentCondition(try JSONPointer("n"), [.minimum(DecimalNumber("50")!)])],
            [ArgumentCondition(try JSONPointer("n"), [.minimum(DecimalNumber("50")!)], ifPresent: true)],
            [
                ArgumentCondition(try JSONPointer("text"), [.pattern(try PosixRegex("^hel+o$"))], ifPresent: true),
                ArgumentCondition(try JSONPointer("n"), [.type([.integer])]),
            ],
        ]
        for conditions in conditionSets {
            for verdict in [RuleVerdict.deny, .ask] {
                for json in arguments { _ = judge(rules(.when(verdict), conditions), json) }
            }
        }
        #expect(judge(rules(.when(.deny), conditionSets[0]), #"{"n":7}"#) == true)
        #expect(judge(rules(.when(.deny), conditionSets[0]), #"{"n":70}"#) == false)
    }

    @Test func rulesWithoutAByteFormAreLeftToTheDecodedArguments() throws {
        let oneOf = rules(.require, [ArgumentCondition(try JSONPointer("n"), [.oneOf([7])])])
        #expect(judge(oneOf, #"{"n":7}"#) == false)
        let strict = ToolArgumentRules(
            rules: [ArgumentRule(id: "s", tools: [Glob("*")], kind: .strictArguments, conditions: [])],
            declared: ["n"])
        #expect(judge(strict, #"{"n":7}"#) == false)
    }

    @Test func patternsOnBytesMatchAsOnStrings() throws {
        let patterns = [
            "^hello", "^hello$", "^hel+o", "^hello?", "^he{2}", "^a|^hello", "hello", "^[h]ello", "^h.llo", "^(hello)",
            "^hello world$", "^héllo", "^", "^\\^x", "^x*", "^ab+c",
        ]
        let texts = [
            "hello", "hello world", "hell", "heello", "helllo", "hellohello", "xhello", "", "héllo", "^x", "abbc", "ac",
        ]
        for pattern in patterns {
            let regex = try PosixRegex(pattern)
            for text in texts {
                let bytes = Array(text.utf8)
                let onBytes = bytes.withUnsafeBytes { regex.matches(utf8: $0) }
                #expect(onBytes == regex.matches(text), "\(pattern) on \(text)")
            }
        }
    }

    @Test func literalPrefixes() {
        #expect(PosixRegex.literalPrefix(of: "^hello") == (Array("hello".utf8), true))
        #expect(PosixRegex.literalPrefix(of: "^hello?") == (Array("hell".utf8), false))
        #expect(PosixRegex.literalPrefix(of: "^hel.o") == (Array("hel".utf8), false))
        #expect(PosixRegex.literalPrefix(of: "^a|b") == ([], false))
        #expect(PosixRegex.literalPrefix(of: "hello") == ([], false))
        #expect(PosixRegex.literalPrefix(of: "^") == ([], false))
        #expect(PosixRegex.literalPrefix(of: "^x*") == ([], false))
    }
}
