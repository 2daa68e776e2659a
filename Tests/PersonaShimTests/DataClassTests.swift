import Foundation
import Testing

@testable import PersonaShim

/// Data classes: decoding the section and the shared classification file, and the request-phase check.
@Suite struct DataClassTests {
    let now = try! instant("2026-11-21T12:00:00Z")

    func persona(_ dataClasses: String, directory: String = "/etc/personas") -> PersonaLoadResult {
        let text = """
            {
              "persona": "support-reader",
              "purpose": "Reads tickets.",
              "owner": "team@example.com",
              "reviewBy": "2027-02-01",
              "servers": {"crm": {"command": "crm"}, "billing": {"command": "billing"}},
              "tools": {"allow": ["crm__*", "billing__*"]},
              "resources": {"allow": ["crm+*"]},
              "dataClasses": \(dataClasses)
            }
            """
        return PersonaLoader.decode(bytes: Array(text.utf8), path: directory + "/p.json", now: now)
    }

    func tool(_ name: String, server: String) -> PolicySubject {
        PolicySubject(kind: .tool, exposedName: name, server: server, name: String(name.split(separator: "_").last!))
    }

    func decide(_ policy: DataClassPolicy, _ subject: PolicySubject) -> PolicyDecision? {
        DataClassCheck(persona: "support-reader", policy: policy).evaluate(PolicyRequest(subject, now: now))
    }

    @Test func aToolOfAnUndeclaredClassIsRefusedNamingTheClass() throws {
        let loaded = persona(
            #"{"allow": ["tickets", "pii.customer"], "servers": {"billing": ["finance"]}, "tools": {"crm__*customer*": ["pii.customer"], "crm__*": ["tickets"]}}"#
        )
        let policy = try #require(loaded.persona?.dataClasses, "\(loaded.diagnostics)")
        #expect(policy.unlabelled == .refuse)
        #expect(decide(policy, tool("crm__get_ticket", server: "crm")) == nil)
        #expect(decide(policy, tool("crm__lookup_customer", server: "crm")) == nil)
        #expect(policy.classes(of: tool("crm__lookup_customer", server: "crm")) == ["pii.customer", "tickets"])
        let refused = try #require(decide(policy, tool("billing__adjust_balance", server: "billing")))
        #expect(refused.verdict == .deny)
        #expect(refused.rule == "dataClasses")
        #expect(
            refused.reason
                == #"tool billing__adjust_balance handles data of class "finance", which the persona "support-reader" does not declare in "dataClasses.allow""#
        )
    }

    @Test func unlabelledThingsAreRefusedByDefaultAndAllowedWhenThePersonaSaysSo() throws {
        let strict = try #require(
            persona(#"{"allow": ["tickets"], "tools": {"crm__get_ticket": ["tickets"]}}"#).persona)
        let refused = try #require(decide(strict.dataClasses!, tool("crm__export", server: "crm")))
        #expect(refused.rule == "dataClasses.unlabelled")
        #expect(refused.reason.contains("has no data class label"))
        let lenient = try #require(
            persona(#"{"allow": ["tickets"], "unlabelled": "allow", "tools": {"crm__get_ticket": ["tickets"]}}"#)
                .persona)
        #expect(decide(lenient.dataClasses!, tool("crm__export", server: "crm")) == nil)
    }

    @Test func resourcesAreLabelledByURIAndPromptsByTheirServer() throws {
        let policy = try #require(
            persona(
                #"{"allow": ["tickets"], "servers": {"billing": ["finance"]}, "resources": {"crm+memo://secret*": ["source-code"], "crm+*": ["tickets"]}}"#
            ).persona?.dataClasses)
        let shared = PolicySubject(
            kind: .resource, exposedName: "crm+memo://shared", server: "crm", name: "memo://shared")
        let secret = PolicySubject(
            kind: .resource, exposedName: "crm+memo://secrets", server: "crm", name: "memo://secrets")
        #expect(decide(policy, shared) == nil)
        #expect(decide(policy, secret)?.reason.contains(#"class "source-code""#) == true)
        let prompt = PolicySubject(kind: .prompt, exposedName: "billing__dispute", server: "billing", name: "dispute")
        #expect(
            decide(policy, prompt)?.reason.contains(#"prompt billing__dispute handles data of class "finance""#) == true
        )
    }

    @Test func theSharedClassificationFileAddsLabelsAndReportsItsOwnMistakesAtTheirLine() throws {
        let directory = NSTemporaryDirectory() + "classes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try #"{"version": 1, "servers": {"billing": ["finance"]}, "tools": {"crm__*": ["tickets"]}}"#.write(
            toFile: directory + "/classes.json", atomically: true, encoding: .utf8)
        let loaded = persona(#"{"allow": ["tickets"], "classification": "classes.json"}"#, directory: directory)
        let policy = try #require(loaded.persona?.dataClasses, "\(loaded.diagnostics)")
        #expect(policy.classificationFile == directory + "/classes.json")
        #expect(decide(policy, tool("crm__get_ticket", server: "crm")) == nil)
        #expect(decide(policy, tool("billing__refund", server: "billing"))?.rule == "dataClasses")

        try "{\n  \"servers\": {\"billing\": [\"fin ance\"]},\n  \"tols\": {}\n}".write(
            toFile: directory + "/classes.json", atomically: true, encoding: .utf8)
        let broken = persona(#"{"allow": ["tickets"], "classification": "classes.json"}"#, directory: directory)
        #expect(broken.persona == nil)
        let messages = broken.diagnostics.map(\.description)
        #expect(
            messages.contains(
                "\(directory)/classes.json:2:27: error: data class \"fin ance\" is not a valid class name; use letters, digits, '.', '_' and '-' (at most 64 characters), e.g. \"pii.customer\""
            ), "\(messages)")
        #expect(
            messages.contains(
                "\(directory)/classes.json:3:3: error: unknown key \"tols\" in the classification file (did you mean \"tools\"?)"
            ), "\(messages)")

        let missing = persona(#"{"allow": [], "classification": "nowhere.json"}"#, directory: directory)
        #expect(missing.persona == nil)
        #expect(missing.diagnostics.contains { $0.message.contains("cannot open the classification file") })
    }

    @Test func mistakesInTheSectionAreErrorsWithLocations() {
        let noAllow = persona(#"{"tools": {"crm__*": ["tickets"]}}"#)
        #expect(noAllow.persona == nil)
        #expect(noAllow.diagnostics.contains { $0.message.contains(#"missing required key "allow" in "dataClasses""#) })
        let typo = persona(#"{"allow": [], "unlabeled": "allow"}"#)
        #expect(
            typo.diagnostics.contains {
                $0.message == #"unknown key "unlabeled" in "dataClasses" (did you mean "unlabelled"?)"#
            })
        let badValue = persona(#"{"allow": [], "unlabelled": "maybe"}"#)
        #expect(badValue.diagnostics.contains { $0.message.contains(#"must be "allow" or "refuse", not "maybe""#) })
        let notArray = persona(#"{"allow": [], "tools": {"crm__*": "tickets"}}"#)
        #expect(notArray.diagnostics.contains { $0.message.contains("must be an array of class names, not a string") })
    }

    @Test func aPersonaWithoutDataClassesAddsNoCheck() throws {
        let text = """
            {"persona": "p", "purpose": "x", "owner": "o", "reviewBy": "2027-01-01",
             "servers": {"crm": {"command": "crm"}}, "tools": {"allow": ["crm__*"]}}
            """
        let loaded = PersonaLoader.decode(bytes: Array(text.utf8), path: "/p.json", now: now)
        let persona = try #require(loaded.persona)
        #expect(persona.dataClasses == nil)
        #expect(PolicyEngine(persona: persona).toolRequest.checks.isEmpty)
    }
}
