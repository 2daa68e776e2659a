import Testing

@testable import PersonaShim

/// How the request path is meant to use the per-call policy, from persona text and raw call bytes to decisions.
@Suite struct WiringExampleTests {
    let personaText = """
        {
          "persona": "refunds", "purpose": "Handles refunds.", "owner": "team", "reviewBy": "2099-01-01",
          "servers": {"billing": {"command": "/bin/true"}, "mail": {"command": "/bin/true"}},
          "tools": {"allow": ["billing__*", "mail__send"]},
          "rules": [
            {"id": "big-refunds", "tools": ["billing__refund"], "when": {"/amount": {"exclusiveMinimum": 100}},
             "decision": "ask"},
            {"id": "amount-is-a-number", "tools": ["billing__refund"], "require": {"/amount": {"type": "number"}}}
          ],
          "limits": [{"id": "refunds", "tools": ["billing__refund"], "calls": 3, "per": "1h"}],
          "labels": {"servers": {"billing": ["private-data"], "mail": ["egress"]}}
        }
        """

    /// What the session core would do with the raw `arguments` of a `tools/call`.
    func facts(_ raw: String, paths: PathResolver) throws -> CallFacts {
        let bytes = Array(raw.utf8)
        // One parse: it refuses repeated keys, and the value judged is decoded from the bytes forwarded.
        let arguments = try JSONValue(parsing: bytes)
        let digest = try bytes.withUnsafeBytes { buffer throws(JSONSyntaxError) in
            try CanonicalJSON.digest(buffer, 0..<buffer.count)
        }
        return CallFacts(arguments: arguments, argumentsDigest: digest, paths: paths)
    }

    @Test func fromPersonaToDecisions() throws {
        let persona = try #require(
            PersonaLoader.decode(bytes: Array(personaText.utf8), path: "persona.json").persona)
        // Once per session.
        var session = CallPolicySession(policy: persona.callPolicy)
        #expect(!session.isEmpty)
        let paths = PathResolver(home: "/nonexistent", workingDirectory: "/")
        // Once per tool, when the tool list is built.
        let refund = session.toolPolicy(tool: "billing__refund", server: "billing")
        let send = session.toolPolicy(tool: "mail__send", server: "mail")
        #expect(refund.readsArguments && !send.readsArguments)

        // Per call: judge, then sent / notSent, then answered.
        let clock = MonotonicInstant(nanoseconds: 1_000)
        let wall = Instant(secondsSince1970: 1_800_000_000)
        let small = session.judge(
            try facts(#"{"amount": 1e2}"#, paths: paths), tool: refund, now: clock, wallClock: wall)
        #expect(small.decision == .allow)
        session.sent(refund)
        #expect(session.answered(failed: false, now: clock) == nil)

        let large = session.judge(
            try facts(#"{"amount": 100.00000000000001}"#, paths: paths), tool: refund, now: clock, wallClock: wall)
        #expect(large.decision.rule == "big-refunds")
        // No approvals yet: the ask refuses, and the reservation is given back.
        #expect(large.decision.withoutApprovals.policyDecision?.verdict == .deny)
        session.notSent(large)

        let text = session.judge(
            try facts(#"{"amount": "100"}"#, paths: paths), tool: refund, now: clock, wallClock: wall)
        #expect(text.decision.policyDecision?.verdict == .deny)
        #expect(text.reservation == nil)

        #expect(throws: JSONSyntaxError.self) { try facts(#"{"amount": 1, "amount": 500}"#, paths: paths) }

        // The refund read private data, so mail is now refused; the audit can say why.
        let mail = session.judge(try facts("{}", paths: paths), tool: send, now: clock, wallClock: wall)
        #expect(mail.decision.rule == "flows.untrusted-or-private-to-egress")
        #expect(session.taint == ["private-data:billing__refund"])
    }
}
