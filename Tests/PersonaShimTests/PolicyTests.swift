import Foundation
import Testing

@testable import PersonaShim

@Suite struct GlobTests {
    @Test(arguments: [
        ("crm__*", "crm__get_ticket", true), ("crm__*", "crm__", true), ("crm__*", "billing__get", false),
        ("*__delete_*", "crm__delete_ticket", true), ("billing__get_?nvoice", "billing__get_invoice", true),
        ("billing__refund", "billing__Refund", false), ("*", "anything", true), ("a*b*c", "aXbYc", true),
        ("a*b*c", "aXbY", false), ("", "", true), ("", "x", false),
    ])
    func matches(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(Glob(pattern).matches(name) == expected)
    }
}

@Suite struct PolicyChainTests {
    let scope = PatternScope(
        section: "tools",
        allow: [Glob("crm__*"), Glob("billing__*")], deny: [Glob("billing__adjust_balance"), Glob("billing__refund")])

    func context(_ name: String, now: Instant = .now) -> PolicyRequest {
        PolicyRequest(PolicySubject(kind: .tool, exposedName: name, server: "s", name: "t"), now: now)
    }

    @Test func denyBeatsAllowWhateverTheOrder() {
        let forward = PolicyChain([ScopeCheck(scope)])
        let reversed = PolicyChain([
            ScopeCheck(PatternScope(section: "tools", allow: scope.allow.reversed(), deny: scope.deny.reversed()))
        ])
        for chain in [forward, reversed] {
            let decision = chain.evaluate(context("billing__adjust_balance"))
            #expect(decision.verdict == .deny)
            #expect(decision.rule == #"tools.deny["billing__adjust_balance"]"#)
        }
        #expect(forward.evaluate(context("billing__get_invoice")).verdict == .allow)
    }

    @Test func defaultDeny() {
        let decision = PolicyChain([ScopeCheck(scope)]).evaluate(context("github__push"))
        #expect(decision.verdict == .deny)
        #expect(decision.rule == "default-deny")
    }

    struct AlwaysAsk: PolicyCheck {
        func evaluate(_ request: PolicyRequest) -> PolicyDecision? { PolicyDecision(.ask, rule: "ask", reason: "r") }
    }

    @Test func askBeatsAllowButNotDeny() {
        let chain = PolicyChain([AlwaysAsk(), ScopeCheck(scope)])
        #expect(chain.evaluate(context("crm__get_ticket")).verdict == .ask)
        #expect(chain.evaluate(context("billing__refund")).verdict == .deny)
    }

    @Test func expiryDeniesAfterTheLastDay() throws {
        let expiry = ExpiryCheck(persona: "p", expires: CalendarDate("2027-06-30"))
        let lastDay = try instant("2027-06-30T23:59:59Z")
        let nextDay = try instant("2027-07-01T00:00:00Z")
        #expect(expiry.evaluate(context("x", now: lastDay)) == nil)
        #expect(expiry.evaluate(context("x", now: nextDay))?.verdict == .deny)
    }

    @Test func aKnownDecisionCombinesWithTheChainAndTheContextIsMadeOnlyWhenNeeded() throws {
        let allow = PolicyDecision(.allow, rule: "tools.allow", reason: "scope")
        var made = 0
        func make(_ now: Instant) -> () -> PolicyRequest {
            {
                made += 1; return context("x", now: now)
            }
        }
        let late = try instant("2027-07-01T00:00:00Z")
        #expect(PolicyChain([]).evaluate(known: allow, make(late)).rule == "tools.allow")
        #expect(made == 0)
        #expect(PolicyChain([]).evaluate(known: nil, make(late)).rule == "default-deny")
        let expiring = PolicyChain([ExpiryCheck(persona: "p", expires: CalendarDate("2027-06-30"))])
        #expect(expiring.evaluate(known: allow, make(late)).rule == "expires")
        #expect(expiring.evaluate(known: allow, make(try instant("2027-06-30T12:00:00Z"))).rule == "tools.allow")
        #expect(PolicyChain([AlwaysAsk()]).evaluate(known: allow, make(late)).verdict == .ask)
        #expect(made == 4)
    }
}

@Suite struct ToolNamingTests {
    @Test func plainNamesAreJoined() {
        #expect(ToolNaming.exposedName(server: "crm", tool: "get_ticket") == "crm__get_ticket")
    }

    @Test(arguments: ["files.read", "a/b c", "ünïcode", String(repeating: "x", count: 200)])
    func exposedNamesFitTheStrictForm(_ tool: String) {
        let name = ToolNaming.exposedName(server: "srv", tool: tool)
        #expect(name.utf8.count <= 64)
        #expect(
            name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
            })
    }

    @Test func longNamesGetDistinctHashes() {
        let a = ToolNaming.exposedName(server: "s", tool: String(repeating: "x", count: 100) + "a")
        let b = ToolNaming.exposedName(server: "s", tool: String(repeating: "x", count: 100) + "b")
        #expect(a != b)
        #expect(a.utf8.count == 64)
    }

    @Test func collisionsAreResolvedDeterministically() {
        let tools: [JSONObject] = [
            JSONObject([("name", "a.b")]), JSONObject([("name", "a_b")]), JSONObject([("name", "a/b")]),
        ]
        let chain = PolicyChain([ScopeCheck(PatternScope(section: "tools", allow: [Glob("*")], deny: []))])
        let first = ToolCatalog(servers: [("s", tools)], scope: chain)
        let second = ToolCatalog(servers: [("s", tools)], scope: chain)
        let names = first.entries.map(\.exposedName)
        #expect(Set(names).count == 3)
        #expect(names == second.entries.map(\.exposedName))
        #expect(names[0] == "s__a_b")
        #expect(first.entry(named: names[2])?.tool == "a/b")
    }
}

/// An RFC 3339 time as an `Instant`, through Foundation's parser (tests may use Foundation; the shim does not).
func instant(_ text: String) throws -> Instant {
    let date = try #require(ISO8601DateFormatter().date(from: text))
    return Instant(secondsSince1970: date.timeIntervalSince1970)
}

@Suite struct ResourceURITests {
    @Test func prefixesAreValidLowercaseSchemeParts() {
        #expect(ResourceURIs.prefix("Billing_EU") == "billing-eu")
        #expect(ResourceURIs.prefix("crm.v2") == "crm.v2")
        #expect(ResourceURIs.prefix("1st") == "s-1st")
    }

    @Test func urisAreExposedAndResolvedBothWays() {
        let uris = ResourceURIs(servers: ["CRM", "files"])
        #expect(uris.expose("memo://x", server: 0) == "crm+memo://x")
        #expect(uris.resolve("CRM+memo://x")?.server == 0)
        #expect(uris.resolve("files+file:///a+b")?.uri == "file:///a+b")
        #expect(uris.resolve("nobody+memo://x") == nil)
        #expect(uris.resolve("memo://x") == nil)
        let single = ResourceURIs(servers: ["crm"])
        #expect(single.expose("memo://x", server: 0) == "memo://x")
        #expect(single.resolve("memo://x")?.server == 0)
    }

    @Test func serverNamesSharingAPrefixAreRejected() {
        let text =
            #"{"persona":"p","purpose":"p","owner":"o","reviewBy":"2099-01-01","servers":{"a_b":{"command":"x"},"A-b":{"command":"y"}},"tools":{"allow":["*"]}}"#
        let result = PersonaLoader.decode(bytes: Array(text.utf8), path: "/p.json")
        #expect(result.persona == nil)
        #expect(result.diagnostics.contains { $0.message.contains("would share the resource URI prefix \"a-b+\"") })
    }
}
