import Testing

@testable import PersonaShim

@Suite struct ArgumentConstraintTests {
    let paths = PathResolver(fileSystem: FakeFileSystem(entries: [:]), home: "/home/me", workingDirectory: "/")

    func outcome(_ constraint: ArgumentConstraint, _ value: JSONValue) -> String {
        switch constraint.check(value, at: try! JSONPointer("x"), paths: paths) {
        case .holds: "holds"
        case .fails: "fails"
        case .cannotEvaluate: "cannot"
        }
    }

    func n(_ text: String) -> DecimalNumber { DecimalNumber(text)! }

    @Test func numbersExactlyAndOnlyNumbers() {
        #expect(outcome(.maximum(n("100")), .number("100.00000000000001")) == "fails")
        #expect(outcome(.maximum(n("100")), .number("1e2")) == "holds")
        #expect(outcome(.exclusiveMaximum(n("100")), .number("1e2")) == "fails")
        #expect(outcome(.exclusiveMinimum(n("100")), .number("100.00000000000001")) == "holds")
        #expect(outcome(.minimum(n("0")), .number("-0")) == "holds")
        #expect(outcome(.maximum(n("100")), .string("100")) == "cannot")
        #expect(outcome(.maximum(n("100")), .number("1e99999999999")) == "cannot")
        #expect(outcome(.maximum(n("100")), .null) == "cannot")
    }

    @Test func typesEnumConst() {
        #expect(outcome(.type([.integer]), .number("1.0")) == "holds")
        #expect(outcome(.type([.integer]), .number("1.5")) == "fails")
        #expect(outcome(.type([.number]), .string("1")) == "fails")
        #expect(outcome(.type([.string, .null]), .null) == "holds")
        #expect(outcome(.oneOf(["a", .number("1")]), .number("1.0")) == "holds")
        #expect(outcome(.oneOf(["a", .number("1")]), "b") == "fails")
        #expect(outcome(.oneOf(["é"]), .string("e\u{301}")) == "fails")
        #expect(outcome(.const(["a": 1, "b": [true]]), ["b": [true], "a": .number("1e0")]) == "holds")
        #expect(outcome(.const(["a": 1]), ["a": 1, "b": 2]) == "fails")
    }

    @Test func stringsPatternsLengths() throws {
        let digits = try PosixRegex("^[0-9]+$")
        #expect(outcome(.pattern(digits), "12345") == "holds")
        #expect(outcome(.pattern(digits), "12a45") == "fails")
        #expect(outcome(.pattern(digits), "123\u{0}abc") == "fails")
        #expect(outcome(.pattern(digits), .number("12")) == "cannot")
        #expect(outcome(.pattern(try PosixRegex("ü")), "grüße") == "holds")
        #expect(outcome(.maxLength(3), "äöü") == "holds")
        #expect(outcome(.maxLength(3), "äöüx") == "fails")
        #expect(outcome(.minLength(2), "👍") == "fails")
        #expect(outcome(.minLength(2), "e\u{301}") == "holds")
        #expect(throws: PosixRegex.CompileError.self) { try PosixRegex("a(b") }
        #expect(throws: PosixRegex.CompileError.self) { try PosixRegex("(a*)*\\1") }
        #expect(outcome(.pattern(try PosixRegex("^a\\\\1$")), "a\\1") == "holds")
        #expect(throws: PosixRegex.CompileError.self) { try PosixRegex("a\\\\\\1") }
    }

    @Test func requiredAndNot() {
        #expect(outcome(.required(["a"]), ["a": 1]) == "holds")
        #expect(outcome(.required(["a", "b"]), ["a": 1]) == "fails")
        #expect(outcome(.required(["a"]), "a") == "cannot")
        #expect(outcome(.not([.const("rm")]), "ls") == "holds")
        #expect(outcome(.not([.const("rm")]), "rm") == "fails")
        #expect(outcome(.not([.maximum(n("1"))]), "x") == "cannot")
    }

    @Test func hosts() throws {
        let scope = HostScope(allow: [try .init("*.example.com")], deny: [])
        #expect(outcome(.hosts(scope), "https://api.example.com/x") == "holds")
        #expect(outcome(.hosts(scope), "https://api.example.com@evil.com/x") == "fails")
        #expect(outcome(.hosts(scope), "https://evil.com\\@api.example.com/") == "cannot")
        #expect(outcome(.hosts(scope), .number("1")) == "cannot")
    }
}

@Suite struct ArgumentRuleTests {
    let paths = PathResolver(fileSystem: FakeFileSystem(entries: [:]), home: "/home/me", workingDirectory: "/")

    func refundRules() throws -> ArgumentRuleSet {
        ArgumentRuleSet([
            ArgumentRule(
                id: "big-refunds", tools: [Glob("billing__refund")], kind: .when(.ask),
                conditions: [ArgumentCondition(try JSONPointer("/amount"), [.exclusiveMinimum(DecimalNumber("100")!)])],
                reason: "Refunds above 100 need a person"),
            ArgumentRule(
                id: "currency", tools: [Glob("billing__*")], kind: .require,
                conditions: [ArgumentCondition(try JSONPointer("currency"), [.oneOf(["EUR", "USD"])], ifPresent: true)]),
        ])
    }

    @Test func refundsAboveAHundredNeedApproval() throws {
        let rules = try refundRules().rules(for: "billing__refund")
        #expect(rules.evaluate(["amount": 100], paths: paths) == .allow)
        #expect(rules.evaluate(["amount": .number("100.00000000000001")], paths: paths).rule == "big-refunds")
        if case .ask(_, let reason) = rules.evaluate(["amount": 250], paths: paths) {
            #expect(reason.hasPrefix("Refunds above 100 need a person."))
        } else {
            Issue.record("expected ask")
        }
        // Missing or mistyped: the rule cannot be evaluated, so the call is refused with the rule's name.
        let missing = rules.evaluate([:], paths: paths)
        #expect(missing == .deny(rule: "big-refunds", reason: missing.reason ?? ""))
        #expect(missing.reason?.contains("\"/amount\" is missing") == true)
        #expect(rules.evaluate(["amount": "250"], paths: paths).rule == "big-refunds")
        #expect(rules.evaluate(["amount": "250"], paths: paths).policyDecision?.verdict == .deny)
        // Deny beats ask.
        let both = rules.evaluate(["amount": 250, "currency": "GBP"], paths: paths)
        #expect(both.rule == "currency")
        #expect(both.policyDecision?.verdict == .deny)
        #expect(try refundRules().rules(for: "crm__get_ticket").isEmpty)
    }
}

@Suite struct RuleDecisionTests {
    @Test func combiningIsOrderFree() {
        let decisions: [RuleDecision] = [
            .allow, .ask(rule: "b", reason: "x"), .ask(rule: "a", reason: "y"), .deny(rule: "z", reason: "1"),
            .deny(rule: "c", reason: "2"), .deny(rule: "c", reason: "1"),
        ]
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<100 {
            let combined = decisions.shuffled(using: &generator).reduce(RuleDecision.allow) { $0.combined(with: $1) }
            #expect(combined == .deny(rule: "c", reason: "1"))
        }
        #expect(RuleDecision.allow.combined(with: .ask(rule: "a", reason: "r")) == .ask(rule: "a", reason: "r"))
    }

    @Test func askRefusesUntilApprovalsExist() {
        let decision = RuleDecision.ask(rule: "big-refunds", reason: "Refunds above 100 need a person.")
        #expect(decision.withoutApprovals.policyDecision?.verdict == .deny)
        #expect(decision.withoutApprovals.reason?.contains("Approval is not available") == true)
        #expect(RuleDecision.allow.withoutApprovals == .allow)
    }

    @Test func intervals() {
        #expect(RuleInterval("60s")?.nanoseconds == 60_000_000_000)
        #expect(RuleInterval("1m")?.nanoseconds == RuleInterval(seconds: 60).nanoseconds)
        #expect(RuleInterval("1h")?.nanoseconds == 3_600_000_000_000)
        #expect(RuleInterval("1d")?.nanoseconds == 86_400_000_000_000)
        for bad in ["", "s", "0s", "-1s", "1.5m", "1 m", "1w", "60", "+5s", "367d", "9999999999s"] {
            #expect(RuleInterval(bad) == nil, "\(bad)")
        }
        #expect(RuleInterval.sentence(forNanoseconds: 1) == "in 1 second")
        #expect(RuleInterval.sentence(forNanoseconds: 40_000_000_000) == "in 40 seconds")
        #expect(RuleInterval.sentence(forNanoseconds: 3_600_000_000_000) == "in 60 minutes")
        #expect(RuleInterval.sentence(forNanoseconds: 86_400_000_000_000) == "in 24 hours")
    }
}
