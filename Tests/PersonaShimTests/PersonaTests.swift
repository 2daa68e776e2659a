import Foundation
import Testing

@testable import PersonaShim

@Suite struct PersonaLoaderTests {
    let now = try! instant("2026-11-21T12:00:00Z")

    func load(_ text: String) -> PersonaLoadResult {
        PersonaLoader.decode(bytes: Array(text.utf8), path: "/etc/personas/p.json", now: now)
    }

    let valid = """
        {
          "persona": "support-reader",
          "purpose": "Reads tickets.",
          "owner": "team@example.com",
          "reviewBy": "2027-02-01",
          "expires": "2027-06-30",
          "servers": {"crm": {"command": "./bin/crm", "args": ["--x"], "env": {"K": "V"}, "cwd": "data"}},
          "tools": {"allow": ["crm__*"], "deny": ["crm__delete"]},
          "audit": {"path": "logs/audit.jsonl"}
        }
        """

    @Test func loadsAValidPersonaAndResolvesRelativePaths() throws {
        let result = load(valid)
        #expect(result.diagnostics.isEmpty)
        let persona = try #require(result.persona)
        #expect(persona.name == "support-reader")
        #expect(persona.servers.first?.command.executable == "/etc/personas/bin/crm")
        #expect(persona.servers.first?.command.workingDirectory == "/etc/personas/data")
        #expect(persona.servers.first?.command.environment == ["K": "V"])
        #expect(persona.audit.path == "/etc/personas/logs/audit.jsonl")
        #expect(persona.digest == "sha256:" + SHA256.hash(Array(valid.utf8)).hexString)
    }

    @Test func unknownKeysAreErrorsWithASuggestionAndALocation() {
        let text = valid.replacingOccurrences(of: #""tools": {"allow""#, with: #""tools": {"alow""#)
        let result = load(text)
        #expect(result.persona == nil)
        let error = result.diagnostics.first { $0.severity == .error }
        #expect(
            error?.description
                == #"/etc/personas/p.json:8:13: error: unknown key "alow" in "tools" (did you mean "allow"?)"#)
    }

    @Test func topLevelTypoIsCaught() {
        let result = load(valid.replacingOccurrences(of: #""tools":"#, with: #""tols":"#))
        let messages = result.diagnostics.map(\.message)
        #expect(messages.contains(#"unknown key "tols" in the persona (did you mean "tools"?)"#))
        #expect(result.persona == nil)
    }

    @Test func expiredPersonaIsRefused() {
        let result = load(valid.replacingOccurrences(of: "2027-06-30", with: "2026-11-20"))
        #expect(result.persona == nil)
        #expect(result.diagnostics.contains { $0.severity == .error && $0.message.contains("expired on 2026-11-20") })
    }

    @Test func pastReviewWarnsButLoads() {
        let result = load(valid.replacingOccurrences(of: "2027-02-01", with: "2026-01-01"))
        #expect(result.persona != nil)
        #expect(result.diagnostics.contains { $0.severity == .warning && $0.message.contains("due for review") })
    }

    @Test(arguments: [
        (#""expires": "2027-02-30""#, "must be a date written YYYY-MM-DD"),
        (#""persona": 5"#, #""persona" must be a string, not a number"#),
        (#""mode": "yolo""#, #"unknown mode "yolo""#),
    ])
    func badValuesAreReported(_ replacement: String, _ message: String) {
        var text = valid
        let key = String(replacement.prefix { $0 != ":" })
        let line = text.split(separator: "\n").first { $0.contains(key) }.map(String.init)
        if let line {
            text = text.replacingOccurrences(of: line, with: "  " + replacement + ",")
        } else {
            text = text.replacingOccurrences(of: "{\n", with: "{\n  " + replacement + ",\n")
        }
        let result = load(text)
        #expect(result.persona == nil)
        #expect(result.diagnostics.contains { $0.message.contains(message) }, "\(result.diagnostics)")
    }

    @Test func syntaxErrorsPointAtTheirLine() {
        let result = load("{\n  \"persona\": \"x\",\n  oops\n}")
        #expect(result.diagnostics.first?.line == 3)
        #expect(
            result.diagnostics.first?.description.hasPrefix(
                "/etc/personas/p.json:3:3: error: the persona is not valid JSON") == true)
    }

    @Test func missingRequiredKeys() {
        let result = load(#"{"persona": "p"}"#)
        let messages = result.diagnostics.map(\.message)
        #expect(messages.contains { $0.contains(#"missing required key "purpose""#) })
        #expect(messages.contains { $0.contains(#"missing required key "owner""#) })
        #expect(messages.contains { $0.contains(#"missing required key "servers""#) })
        #expect(messages.contains { $0.contains(#"missing required key "tools""#) })
    }

    @Test func theBundledPersonaIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Personas/support-reader.json").path
        let result = PersonaLoader.load(path: path, now: now)
        #expect(!result.diagnostics.hasErrors, "\(result.diagnostics)")
        #expect(result.persona?.servers.map(\.name) == ["crm", "billing"])
    }

    @Test func clientConfigFilesAreRead() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ps-servers-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("mcp.json").path
        _ = FileManager.default.createFile(
            atPath: file,
            contents: Data(
                #"{"mcpServers": {"time": {"command": "uvx", "args": ["mcp-server-time"], "disabled": false}, "web": {"type": "http", "url": "https://x"}}}"#
                    .utf8))
        let (servers, diagnostics) = PersonaLoader.loadServersFile(path: file)
        #expect(servers.map(\.name) == ["time"])
        #expect(!diagnostics.hasErrors)
        #expect(diagnostics.contains { $0.message.contains("skipping server \"web\"") })
    }
}

@Suite struct CalendarDateTests {
    @Test(arguments: ["2024-02-29", "2027-12-31", "2000-02-29"])
    func validDates(_ text: String) { #expect(CalendarDate(text)?.description == text) }

    @Test(arguments: ["2023-02-29", "2027-13-01", "2027-1-01", "27-01-01", "2027-04-31", "1900-02-29", "x"])
    func invalidDates(_ text: String) { #expect(CalendarDate(text) == nil) }
}

@Suite struct AuditFormatTests {
    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(AuditLog.timestamp(timespec(tv_sec: 1_795_000_000, tv_nsec: 42_000_000)) == "2026-11-18T11:06:40.042Z")
        #expect(AuditLog.timestamp(timespec(tv_sec: 0, tv_nsec: 999_999_999)) == "1970-01-01T00:00:00.999Z")
    }

    @Test func argumentDigestsIgnoreKeyOrder() throws {
        let a = try JSONValue(parsing: #"{"b":1,"a":"x"}"#)
        let b = try JSONValue(parsing: #"{"a":"x","b":1}"#)
        #expect(canonicalDigest(a) == canonicalDigest(b))
        #expect(canonicalDigest(a) == "sha256:" + SHA256.hash(#"{"a":"x","b":1}"#).hexString)
    }

    /// The digest the hot path computes from the raw text equals the digest of the parsed value, whichever path
    /// (direct or through the parser) the text takes.
    @Test(arguments: [
        #"{}"#, #"{ }"#, #"{"a":1}"#, #" { "b" : [1, 2.50, -3e+2, true, false, null] , "a" : {"z":{}, "y":[]} } "#,
        #"{"a ":1,"a":2,"a!":3,"A":4,"_":5}"#, #"{"k":"caf\u00e9"}"#, #"{"k":"café"}"#, #"{"k\n":"v"}"#,
        #"{"n":[[[[{"x":"y","w":[{}]}]]]]}"#, #"{"s":"with \"quotes\" and \\ slash"}"#,
        #"{"text":"hello from persona-bench","n":42}"#, #"{"é":1,"e":2,"z":3}"#, #"[3,{"b":1,"a":2}]"#, #""x""#,
    ])
    func digestsFromTextMatchDigestsOfValues(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        let direct = try directDigest(text).get()
        #expect("sha256:" + direct.bytes.hexString == canonicalDigest(value))
    }

    @Test func objectsWithManyMembersDigestLikeSmallOnes() throws {
        // More members than the direct path keeps on the stack, nested, in reverse order.
        let inner = (0..<40).reversed().map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        let text = #"{"z":{\#(inner)},"# + inner + "}"
        let direct = try directDigest(text).get()
        #expect("sha256:" + direct.bytes.hexString == canonicalDigest(try JSONValue(parsing: text)))
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"x":[{"k":1,"k":1}]}"#, #"{"a":1,"\u0061":2}"#])
    func aRepeatedKeyAtAnyDepthIsRefused(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try directDigest(text).get() }
    }

    private func directDigest(_ text: String) -> Result<SHA256.Digest, JSONSyntaxError> {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            Result { () throws(JSONSyntaxError) in try CanonicalJSON.digest(raw, 0..<raw.count) }
        }
    }

    @Test func theDirectPathWritesTheCanonicalForm() throws {
        let text = #" { "b" : [1, 2.50, {"d":0,"c":null}] , "a" : "x" , "a b":1, "a!":2 } "#
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        #expect(bytes.withUnsafeBytes { CanonicalJSON.append($0, 0..<bytes.count, to: &output) })
        #expect(String(decoding: output, as: UTF8.self) == #"{"a":"x","a b":1,"a!":2,"b":[1,2.50,{"c":null,"d":0}]}"#)
        var escaped: [UInt8] = []
        let withEscape = Array(#"{"a":"\u0041"}"#.utf8)
        #expect(!withEscape.withUnsafeBytes { CanonicalJSON.append($0, 0..<withEscape.count, to: &escaped) })
    }

    @Test func millisecondsAreFormattedWithThreeDecimals() {
        #expect(formatMilliseconds(1.5) == "1.500")
        #expect(formatMilliseconds(0.0421) == "0.042")
        #expect(formatMilliseconds(12) == "12.000")
    }
}
