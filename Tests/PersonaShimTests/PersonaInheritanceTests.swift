import Foundation
import Testing

@testable import PersonaShim

@Suite struct PersonaInheritanceTests {
    let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ps-inherit-\(UUID().uuidString)")
            .path
        try? FileManager.default.createDirectory(atPath: path + "/org", withIntermediateDirectories: true)
        return path
    }()

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let path = folder + "/" + name
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        return path
    }

    let base = """
        {
          "persona": "org-base",
          "purpose": "The organisation's floor.",
          "owner": "security@example.com",
          "reviewBy": "2099-01-01",
          "expires": "2099-06-30",
          "mode": "enforce",
          "servers": {"crm": {"command": "bin/crm", "cwd": "data"}, "billing": {"command": "billing"}},
          "tools": {"allow": ["crm__*", "billing__get_*"], "deny": ["*__delete_*"]},
          "serverRequests": {"sampling": false, "roots": false},
          "audit": {"path": "audit.jsonl", "fsync": true},
          "timeouts": {"callSeconds": 60},
          "limits": [{"id": "org-budget", "calls": 500}]
        }
        """

    func child(_ extra: String = "", allow: String = #"["crm__get_*"]"#, extends: String = "org/base.json") -> String {
        """
        {
          "extends": "\(extends)",
          "persona": "support-reader",
          "purpose": "Reads tickets.",
          "owner": "support@example.com",
          "reviewBy": "2098-01-01",
          "expires": "2100-01-01",
          "servers": {"crm": {"command": "crm-v2"}},
          "tools": {"allow": \(allow), "deny": ["crm__get_secret"]},
          "serverRequests": {"roots": true, "elicitation": false},
          "timeouts": {"callSeconds": 600, "initializeSeconds": 5},
          "limits": [{"id": "reader-rate", "calls": 10, "per": "1m"}]\(extra)
        }
        """
    }

    func load(_ path: String) -> PersonaLoadResult {
        PersonaLoader.load(path: path, now: Instant(secondsSince1970: 1_800_000_000))
    }

    @Test func mergesAChainWithoutWideningAnything() throws {
        write("org/base.json", base)
        let path = write("reader.json", child())
        let result = load(path)
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics)")
        let persona = try #require(result.persona)
        #expect(persona.name == "support-reader")
        #expect(persona.owner == "support@example.com")
        #expect(persona.mode == .enforce)
        // The earlier of the two dates, the smaller of the two timeouts.
        #expect(persona.expires?.description == "2099-06-30")
        #expect(persona.reviewBy?.description == "2098-01-01")
        #expect(persona.timeouts.callSeconds == 60)
        #expect(persona.timeouts.initializeSeconds == 5)
        // Allows narrowed to the child's, denies accumulated.
        #expect(persona.tools.allow.map(\.pattern) == ["crm__get_*"])
        #expect(persona.tools.deny.map(\.pattern) == ["*__delete_*", "crm__get_secret"])
        // A permission the base turned off stays off; one it left alone the child may turn off.
        #expect(persona.serverRequests.roots == false)
        #expect(persona.serverRequests.elicitation == false)
        #expect(persona.serverRequests.sampling == false)
        #expect(persona.audit.fsync)
        // Servers merge by name, the child's entry winning; the base's relative paths stay the base's.
        #expect(persona.servers.map(\.name) == ["crm", "billing"])
        #expect(persona.servers[0].command.executable == "crm-v2")
        #expect(persona.audit.path == folder + "/org/audit.jsonl")
        // Limits accumulate: both apply.
        #expect(persona.callPolicy.limits.map(\.id) == ["org-budget", "reader-rate"])
        #expect(persona.sourceFiles == [path, folder + "/org/base.json"])
        let digests = [path, folder + "/org/base.json"].map {
            "sha256:" + SHA256.hash(Array(FileManager.default.contents(atPath: $0)!)).hexString
        }
        #expect(persona.digest == "sha256:" + SHA256.hash(Array(digests.joined(separator: "\n").utf8)).hexString)
        #expect(result.effective?["extends"] == nil)
    }

    @Test func aChildAllowPatternOutsideTheBaseIsAnErrorAtItsPlace() {
        write("org/base.json", base)
        let path = write("reader.json", child(allow: #"["crm__get_*", "billing__refund", "*__get_*"]"#))
        let errors = load(path).diagnostics.filter { $0.severity == .error }.map(\.description)
        #expect(errors.count == 2)
        #expect(
            errors.first?.hasPrefix(path + ":9:37: error: tools.allow pattern \"billing__refund\" allows more") == true,
            "\(errors)")
        #expect(errors.last?.contains("\"*__get_*\" allows more than the persona it extends") == true)
    }

    @Test func globContainmentIsSound() {
        #expect(GlobContainment.isWithin("crm__get_*", "crm__*"))
        #expect(GlobContainment.isWithin("crm__get_?", "crm__get_*"))
        #expect(GlobContainment.isWithin("crm__x", "crm__?"))
        #expect(!GlobContainment.isWithin("crm__*", "crm__get_*"))
        #expect(!GlobContainment.isWithin("*__get_*", "crm__*"))
        #expect(!GlobContainment.isWithin("crm__xy", "crm__?"))
        #expect(!GlobContainment.isWithin("crm__*", "crm__?"))
    }

    @Test func monitorCannotLoosenAnEnforcingBase() {
        write("org/base.json", base)
        let path = write("reader.json", child(#", "mode": "monitor""#))
        let errors = load(path).diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.file == path)
        #expect(errors.first?.line == 12)
        #expect(errors.first?.message.contains("a persona can only make its base stricter") == true)
    }

    @Test func aBaseMistakeIsReportedInTheBase() {
        write("org/base.json", base.replacingOccurrences(of: #""deny": ["*__delete_*"]"#, with: #""deny": "x""#))
        let path = write("reader.json", child())
        let errors = load(path).diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.file == folder + "/org/base.json")
        #expect(errors.first?.line == 9)
    }

    @Test func aCycleIsAnErrorShowingTheChain() {
        let a = write("a.json", child(extends: "b.json"))
        write("b.json", child(extends: "a.json"))
        let errors = load(a).diagnostics
        #expect(errors.count == 1)
        #expect(errors.first?.file == folder + "/b.json")
        #expect(errors.first?.line == 2)
        #expect(
            errors.first?.message
                == "the persona inheritance chain is a cycle (\(a) → \(folder)/b.json → \(folder)/a.json); remove one of the \"extends\" keys"
        )
    }

    @Test func aMissingOrBrokenBaseIsAnErrorAtTheExtendsKey() {
        let path = write("reader.json", child(extends: "nowhere.json"))
        let missing = load(path).diagnostics
        #expect(missing.count == 1)
        #expect(
            missing.first?.description
                == "\(path):2:14: error: cannot open the base persona \"nowhere.json\" (\(folder)/nowhere.json): no such file; chain: \(path) → \(folder)/nowhere.json"
        )
        write("org/base.json", "{\n  \"persona\": ,\n}")
        let broken = load(write("reader2.json", child())).diagnostics
        #expect(broken.count == 1)
        #expect(broken.first?.file == folder + "/org/base.json")
        #expect(broken.first?.line == 2)
        #expect(broken.first?.message.hasPrefix("the base persona is not valid JSON") == true)
    }

    @Test func aPersonaWithoutExtendsIsReadAsBefore() throws {
        let path = write("plain.json", base)
        let persona = try #require(load(path).persona)
        #expect(persona.sourceFiles == [path])
        #expect(persona.digest == "sha256:" + SHA256.hash(Array(base.utf8)).hexString)
    }

    @Test func dataClassesOnlyNarrowAndApprovalStaysTheBases() throws {
        let withClasses = base.replacingOccurrences(
            of: #""timeouts": {"callSeconds": 60},"#,
            with:
                #""timeouts": {"callSeconds": 60}, "dataClasses": {"allow": ["tickets", "pii"], "tools": {"crm__*": ["tickets"]}}, "approval": {"channel": "out-of-band", "timeoutSeconds": 600},"#
        )
        write("org/base.json", withClasses)
        let narrowing = write(
            "narrow.json",
            child(
                #", "dataClasses": {"allow": ["tickets"], "unlabelled": "allow", "tools": {"crm__get_*": ["pii"]}}, "approval": {"timeoutSeconds": 60}"#
            ))
        let persona = try #require(load(narrowing).persona, "\(load(narrowing).diagnostics)")
        #expect(persona.dataClasses?.allow == ["tickets"])
        #expect(persona.approval.timeoutSeconds == 60)
        #expect(persona.approval.channel == .outOfBand)
        let widening = write(
            "wide.json",
            child(
                #", "dataClasses": {"allow": ["tickets", "finance"]}, "approval": {"channel": "client"}"#))
        let errors = load(widening).diagnostics.filter { $0.severity == .error }.map(\.message)
        #expect(errors.count == 2, "\(errors)")
        #expect(
            errors.contains { $0.hasPrefix(#"dataClasses.allow "finance" is not allowed by the persona it extends"#) })
        #expect(errors.contains { $0.hasPrefix("approval.channel differs from the persona it extends") })
    }

    @Test func maskingStaysTheBasesAndSecretsTakeTheStricter() throws {
        let masked = base.replacingOccurrences(
            of: #""timeouts": {"callSeconds": 60},"#,
            with:
                #""timeouts": {"callSeconds": 60}, "masking": {"detectors": ["email"]}, "secrets": {"outbound": "ask"},"#
        )
        write("org/base.json", masked)
        let stricter = write("strict.json", child(#", "secrets": {"outbound": "deny"}"#))
        let persona = try #require(load(stricter).persona, "\(load(stricter).diagnostics)")
        #expect(persona.masking?.outbound == .deny)
        let looser = write("loose.json", child(#", "secrets": {"outbound": "off"}"#))
        #expect(try #require(load(looser).persona).masking?.outbound == .ask)
        let unmasking = write(
            "unmask.json", child(#", "masking": {"detectors": ["card"], "exempt": {"values": ["a@b.example"]}}"#))
        let errors = load(unmasking).diagnostics.filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains { $0.hasPrefix("masking.exempt cannot be added by a persona that extends another") })
        #expect(errors.contains { $0.hasPrefix("masking.detectors differs from the persona it extends") })
    }
}
