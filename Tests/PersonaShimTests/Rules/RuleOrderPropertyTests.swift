import Testing

@testable import PersonaShim

/// SplitMix64: a small generator with a fixed seed, so a failing case can be replayed exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RuleOrderPropertyTests {
    let paths = PathResolver(fileSystem: FakeFileSystem(entries: [:]), home: "/home/me", workingDirectory: "/")
    let tools = ["billing__refund", "billing__charge", "crm__get_ticket", "fs__read", "web__fetch"]
    let numbers = ["0", "-0", "1e2", "100", "100.00000000000001", "99.9", "-5", "1e400", "250", "12.50"]
    let strings = ["EUR", "USD", "GBP", "/srv/app/x", "/srv/app_evil", "https://a.example.com", "https://evil.com", ""]

    func randomValue(_ generator: inout SeededGenerator) -> JSONValue? {
        switch Int.random(in: 0..<6, using: &generator) {
        case 0: nil
        case 1, 2: .number(numbers.randomElement(using: &generator)!)
        case 3, 4: .string(strings.randomElement(using: &generator)!)
        default: .bool(Bool.random(using: &generator))
        }
    }

    func randomConstraint(_ generator: inout SeededGenerator) throws -> ArgumentConstraint {
        let bound = DecimalNumber(numbers.randomElement(using: &generator)!)!
        switch Int.random(in: 0..<8, using: &generator) {
        case 0: return .minimum(bound)
        case 1: return .exclusiveMaximum(bound)
        case 2: return .oneOf(["EUR", "USD"])
        case 3: return .type([.number])
        case 4: return .pattern(try PosixRegex("^/srv/app(/|$)"))
        case 5: return .maxLength(4)
        case 6: return .not([.const("GBP")])
        default: return .hosts(HostScope(allow: [try .init("*.example.com")], deny: []))
        }
    }

    func randomRules(_ generator: inout SeededGenerator) throws -> [ArgumentRule] {
        var rules: [ArgumentRule] = []
        for index in 0..<Int.random(in: 1...8, using: &generator) {
            let kind: ArgumentRule.Kind =
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: .require
                case 1: .when(.ask)
                default: .when(.deny)
                }
            var conditions: [ArgumentCondition] = []
            for _ in 0..<Int.random(in: 1...2, using: &generator) {
                let key = ["amount", "currency", "path"].randomElement(using: &generator)!
                conditions.append(
                    ArgumentCondition(
                        try JSONPointer(key), [try randomConstraint(&generator)],
                        ifPresent: Bool.random(using: &generator)))
            }
            let pattern = ["billing__*", "*", "crm__*", "*__fetch", "fs__read"].randomElement(using: &generator)!
            rules.append(ArgumentRule(id: "rule-\(index)", tools: [Glob(pattern)], kind: kind, conditions: conditions))
        }
        return rules
    }

    @Test func shuffledRulesDecideIdentically() throws {
        var generator = SeededGenerator(seed: 0x5EED_1234)
        var decided = [0, 0, 0]
        for _ in 0..<200 {
            let rules = try randomRules(&generator)
            let forward = ArgumentRuleSet(rules)
            let shuffled = ArgumentRuleSet(rules.shuffled(using: &generator))
            let reversed = ArgumentRuleSet(rules.reversed())
            for _ in 0..<25 {
                let tool = tools.randomElement(using: &generator)!
                var members: [(key: String, value: JSONValue)] = []
                for key in ["amount", "currency", "path"] {
                    if let value = randomValue(&generator) { members.append((key, value)) }
                }
                let arguments = JSONValue.object(JSONObject(members.shuffled(using: &generator)))
                let expected = forward.evaluate(tool: tool, arguments: arguments, paths: paths)
                #expect(shuffled.evaluate(tool: tool, arguments: arguments, paths: paths) == expected)
                #expect(reversed.rules(for: tool).evaluate(arguments, paths: paths) == expected)
                decided[expected.severity] += 1
            }
        }
        // The generated calls exercise every outcome, so the property is not vacuous.
        #expect(decided.allSatisfy { $0 > 100 })
    }
}
