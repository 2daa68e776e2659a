import Foundation
import Testing

@testable import PersonaShim

/// The persona schema and the persona decoder must agree: editors validate with one, persona-shim with the other.
@Suite struct PersonaSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let validator: SchemaValidator
    let now = Instant(secondsSince1970: 1_795_000_000)  // 2026-11-18

    init() throws {
        let text = try String(contentsOfFile: Self.root + "/Personas/persona.schema.json", encoding: .utf8)
        validator = SchemaValidator(root: try JSONValue(parsing: text))
    }

    /// The servers a persona written for the wrap form is run with.
    static func extraServers(_ file: String) -> [ServerSpec] {
        file == "git-reader.json" ? [ServerSpec(name: "git", command: ChildCommand(executable: "uvx"))] : []
    }

    @Test func everyBundledPersonaValidatesAndLoads() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/Personas")
            .filter { $0.hasSuffix(".json") && $0 != "persona.schema.json" }
        #expect(files.count >= 2)
        for file in files {
            let path = Self.root + "/Personas/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let json = try JSONValue(parsing: text)
            #expect(validator.errors(json) == [], "\(file)")
            #expect(json["$schema"] == "./persona.schema.json", "\(file) points at the schema")
            let loaded = PersonaLoader.load(path: path, extraServers: Self.extraServers(file), now: now)
            #expect(!loaded.diagnostics.hasErrors, "\(file): \(loaded.diagnostics)")
        }
    }

    static let valid = #"""
        {"$schema": "./persona.schema.json", "version": 1, "persona": "p.1", "purpose": "Reads.", "owner": "o",
         "reviewBy": "2099-01-01", "expires": "2099-12-31", "mode": "enforce",
         "servers": {"crm": {"type": "stdio", "command": "crm", "args": ["-x"], "env": {"K": "V"}, "cwd": "."}},
         "tools": {"allow": ["crm__*"], "deny": []}, "resources": {"allow": []}, "prompts": {"deny": []},
         "serverRequests": {"sampling": false, "elicitation": true, "roots": true},
         "audit": {"path": "a.jsonl", "fsync": true}, "timeouts": {"initializeSeconds": 5, "callSeconds": 0.5},
         "transport": {"maxAgentMessageBytes": 65536, "maxServerMessageBytes": 1048576},
         "approval": {"channel": "auto", "timeoutSeconds": 300, "command": ["./approve.sh", "--chat"], "terminal": true},
         "rules": [
           {"id": "big-refunds", "tools": ["crm__refund"], "when": {"/amount": {"exclusiveMinimum": 100}},
            "decision": "ask", "reason": "Refunds above 100 need a person"},
           {"id": "amounts", "tools": ["crm__refund"],
            "require": {"/amount": {"type": ["number", "integer"], "minimum": 0, "maximum": 1000, "exclusiveMaximum": 1e4}}},
           {"id": "currencies", "tools": ["crm__*"],
            "require": {"currency": {"enum": ["EUR", "USD"], "ifPresent": true},
                        "note": {"minLength": 0, "maxLength": 200, "pattern": "^[a-z ]*$", "not": {"const": "x"}, "ifPresent": true}}},
           {"id": "files", "tools": ["crm__read"],
            "require": {"/options": {"type": "object", "required": ["path"]},
                        "/options/path": {"under": ["~/project"], "notUnder": ["~/project/.git"]}}},
           {"id": "partners", "tools": ["crm__post"],
            "require": {"url": {"hosts": {"allow": ["*.partner.example"], "deny": ["127.0.0.1"]}}}},
           {"tools": ["crm__*"], "strictArguments": true}
         ],
         "limits": [
           {"id": "refunds-per-day", "tools": ["crm__refund"], "calls": 20, "per": "1d", "acrossSessions": true},
           {"id": "crm-rate", "servers": ["crm"], "calls": 10, "per": "10s"},
           {"calls": 500, "acrossSessions": false}
         ],
         "behaviour": {"repeats": {"max": 3, "within": "1m"}, "failures": 5, "probes": 0, "coolDown": "5m"},
         "labels": {"tools": {"crm__fetch": ["untrusted-input"], "crm__post": ["egress"]},
                    "servers": {"crm": ["private-data", "team-1"]}},
         "flows": [{"id": "no-exfiltration", "from": ["untrusted-input", "private-data"], "to": ["egress"], "decision": "ask"}],
         "annotations": {"crm__get_*": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false}},
         "readOnly": false}
        """#

    @Test func aPersonaUsingEveryKeyIsAcceptedByBoth() throws {
        #expect(validator.errors(try JSONValue(parsing: Self.valid)) == [])
        let loaded = PersonaLoader.decode(bytes: Array(Self.valid.utf8), path: "/p/p.json", now: now)
        #expect(!loaded.diagnostics.hasErrors, "\(loaded.diagnostics)")
    }

    /// Each replaces one piece of the valid persona with another form both must accept.
    @Test(arguments: [
        (#""mode": "enforce""#, #""mode": "monitor""#),
        (#""per": "10s""#, #""per": "366d""#),
        (#""per": "10s""#, #""per": "31622400s""#),
        (#""per": "10s""#, #""per": "000000001h""#),
        (#""per": "10s""#, #""per": "527040m""#),
        (#""type": ["number", "integer"]"#, #""type": "integer""#),
        (#""/options/path": {"#, #""/options/~0~1path": {"#),
        (#""/options/path": {"#, #""path/with~2tilde": {"#),
        (#""decision": "ask", "reason""#, #""reason""#),
        (#""calls": 500, "acrossSessions": false"#, #""calls": 100000"#),
        (#""readOnly": false"#, #""readOnly": true"#),
        (#""channel": "auto""#, #""channel": "out-of-band""#),
        (#""channel": "auto""#, #""channel": "client""#),
    ])
    func aVariantIsAcceptedByBoth(_ original: String, _ replacement: String) throws {
        #expect(Self.valid.contains(original))
        let text = Self.valid.replacingOccurrences(of: original, with: replacement)
        #expect(validator.errors(try JSONValue(parsing: text)) == [], "the schema refuses \(replacement)")
        let loaded = PersonaLoader.decode(bytes: Array(text.utf8), path: "/p/p.json", now: now)
        #expect(!loaded.diagnostics.hasErrors, "the decoder refuses \(replacement): \(loaded.diagnostics)")
    }

    /// Each replaces one piece of the valid persona.
    @Test(arguments: [
        (#""version": 1"#, #""version": 2"#),
        (#""persona": "p.1""#, #""persona": "p 1""#),
        (#""persona": "p.1", "#, ""),
        (#""purpose": "Reads.""#, #""purpose": "  ""#),
        (#""owner": "o""#, #""owner": 3"#),
        (#""reviewBy": "2099-01-01""#, #""reviewBy": "2099-13-01""#),
        (#""expires": "2099-12-31""#, #""expires": "31.12.2099""#),
        (#""mode": "enforce""#, #""mode": "watch""#),
        (#""type": "stdio""#, #""type": "sse""#),
        (#""command": "crm""#, #""cmd": "crm""#),
        (#""args": ["-x"]"#, #""args": "-x""#),
        (#""env": {"K": "V"}"#, #""env": {"K": 1}"#),
        (#""servers": {"crm""#, #""servers": {"c r m""#),
        (#""tools": {"allow": ["crm__*"], "deny": []}, "#, ""),
        (#""deny": []}, "resources""#, #""deny": [], "ask": []}, "resources""#),
        (#""prompts": {"deny": []}"#, #""prompts": {"deny": "x"}"#),
        (#""sampling": false"#, #""sampling": "no""#),
        (#""fsync": true"#, #""fsync": 1"#),
        (#""initializeSeconds": 5"#, #""initializeSeconds": 0"#),
        (#""callSeconds": 0.5"#, #""callSeconds": -1"#),
        (#""maxAgentMessageBytes": 65536"#, #""maxAgentMessageBytes": 100"#),
        (#""maxServerMessageBytes": 1048576"#, #""maxServerMessageBytes": 1500.5"#),
        (#""maxServerMessageBytes": 1048576"#, #""maxServerMessageBytes": 2147483648"#),
        (#""mode": "enforce","#, #""mode": "enforce", "tols": {},"#),
        // Argument rules.
        (#""decision": "ask", "reason""#, #""decision": "maybe", "reason""#),
        (#""reason": "Refunds above 100 need a person""#, #""reason": "Refunds above 100 need a person", "note": 1"#),
        (#""strictArguments": true}"#, #""strictArguments": false}"#),
        (#""strictArguments": true}"#, #""strictArguments": true, "when": {"a": {"type": "string"}}}"#),
        (#""strictArguments": true}"#, #""strictArguments": true, "decision": "deny"}"#),
        (#"{"tools": ["crm__*"], "strictArguments": true}"#, #"{"tools": ["crm__*"]}"#),
        (#"{"id": "files", "tools": ["crm__read"],"#, #"{"id": "files","#),
        (#""tools": ["crm__read"]"#, #""tools": []"#),
        (#""require": {"/options""#, #""when": {"x": {"const": 1}}, "require": {"/options""#),
        (#"{"id": "files", "#, #"{"id": "files", "decision": "deny", "#),
        (#""when": {"/amount": {"exclusiveMinimum": 100}}"#, #""when": {}"#),
        (#""exclusiveMinimum": 100}"#, #""exclusiveMinimum": 100, "format": "email"}"#),
        (#""exclusiveMinimum": 100}"#, #""exclusiveMinimum": "100"}"#),
        (#""minimum": 0,"#, #""minimum": true,"#),
        (#""type": ["number", "integer"]"#, #""type": ["decimal"]"#),
        (#""type": ["number", "integer"]"#, #""type": "int""#),
        (#""enum": ["EUR", "USD"]"#, #""enum": []"#),
        (#""enum": ["EUR", "USD"]"#, #""enum": "EUR""#),
        (#""minLength": 0"#, #""minLength": -1"#),
        (#""maxLength": 200"#, #""maxLength": 2.5"#),
        (#""pattern": "^[a-z ]*$""#, #""pattern": ["^[a-z ]*$"]"#),
        (#""not": {"const": "x"}"#, #""not": {}"#),
        (#""not": {"const": "x"}"#, #""not": {"const": "x", "ifPresent": true}"#),
        (#""USD"], "ifPresent": true"#, #""USD"], "ifPresent": "yes""#),
        (#""required": ["path"]"#, #""required": "path""#),
        (#""/options/path": {"#, #""/options/~2path": {"#),
        (#""under": ["~/project"]"#, #""under": "~/project""#),
        (#""deny": ["127.0.0.1"]}"#, #""deny": ["127.0.0.1"], "block": []}"#),
        (#""deny": ["127.0.0.1"]}"#, #""deny": "127.0.0.1"}"#),
        // Limits.
        (#"{"calls": 500, "acrossSessions": false}"#, #"{"acrossSessions": false}"#),
        (#""calls": 500, "acrossSessions": false"#, #""calls": 500, "acrossSessions": true"#),
        (#""calls": 500"#, #""calls": 0"#),
        (#""calls": 500"#, #""calls": 100001"#),
        (#""calls": 20,"#, #""calls": 2.5,"#),
        (#""servers": ["crm"], "calls": 10"#, #""servers": ["crm"], "tools": ["crm__*"], "calls": 10"#),
        (#""servers": ["crm"], "calls": 10"#, #""servers": "crm", "calls": 10"#),
        (#""per": "10s""#, #""per": "10 s""#),
        (#""per": "10s""#, #""per": "1w""#),
        (#""per": "10s""#, #""per": "0s""#),
        (#""per": "10s""#, #""per": "367d""#),
        (#""per": "10s""#, #""per": "8785h""#),
        (#""per": "10s""#, #""per": "527041m""#),
        (#""per": "10s""#, #""per": "31622401s""#),
        (#""per": "10s""#, #""per": "0000000001s""#),
        (#""acrossSessions": true}"#, #""acrossSessions": 1}"#),
        // Behaviour, labels, flows, annotations, readOnly.
        (#""probes": 0,"#, #""probes": 0, "drift": 1,"#),
        (#""probes": 0,"#, #""probes": -1,"#),
        (#""failures": 5"#, #""failures": 0"#),
        (#"{"max": 3, "within": "1m"}"#, #"{"max": 3}"#),
        (#"{"max": 3, "within": "1m"}"#, #"{"max": 3, "within": "1m", "per": "1m"}"#),
        (#""coolDown": "5m""#, #""coolDown": "5 minutes""#),
        (#""team-1""#, #""Team 1""#),
        (#""labels": {"tools""#, #""labels": {"prompts": {}, "tools""#),
        (#""crm__post": ["egress"]}"#, #""crm__post": "egress"}"#),
        (#""to": ["egress"], "#, ""),
        (#""from": ["untrusted-input", "private-data"]"#, #""from": []"#),
        (#""decision": "ask"}]"#, #""decision": "allow"}]"#),
        (#""decision": "ask"}]"#, #""decision": "ask", "via": "x"}]"#),
        (#""openWorldHint": false}"#, #""openWorldHint": false, "safeHint": true}"#),
        (#""readOnlyHint": true, "destructiveHint""#, #""readOnlyHint": "yes", "destructiveHint""#),
        (#""readOnly": false"#, #""readOnly": "no""#),
        // Approval.
        (#""channel": "auto""#, #""channel": "email""#),
        (#""timeoutSeconds": 300"#, #""timeoutSeconds": 0"#),
        (#""timeoutSeconds": 300"#, #""timeoutSeconds": 1.5"#),
        (#""timeoutSeconds": 300"#, #""timeoutSeconds": 86401"#),
        (#""command": ["./approve.sh", "--chat"]"#, #""command": []"#),
        (#""command": ["./approve.sh", "--chat"]"#, #""command": "./approve.sh""#),
        (#""terminal": true"#, #""terminal": "yes""#),
        (#""terminal": true}"#, #""terminal": true, "quorum": 2}"#),
    ])
    func aBrokenPersonaIsRejectedByBoth(_ original: String, _ replacement: String) throws {
        #expect(Self.valid.contains(original))
        let text = Self.valid.replacingOccurrences(of: original, with: replacement)
        #expect(!validator.errors(try JSONValue(parsing: text)).isEmpty, "the schema accepts \(replacement)")
        let loaded = PersonaLoader.decode(bytes: Array(text.utf8), path: "/p/p.json", now: now)
        #expect(loaded.diagnostics.hasErrors, "the decoder accepts \(replacement)")
    }
}

@Suite struct SchemaValidatorTests {
    func errors(_ schema: String, _ instance: String) throws -> [String] {
        try SchemaValidator(root: JSONValue(parsing: schema)).errors(JSONValue(parsing: instance))
    }

    @Test func keywords() throws {
        #expect(try errors(#"{"type": "integer"}"#, "2") == [])
        #expect(try errors(#"{"type": "integer"}"#, "2.5").count == 1)
        #expect(try errors(#"{"enum": [1, "a"]}"#, "1.0") == [])
        #expect(try errors(#"{"const": {"a": [1]}}"#, #"{"a": [2]}"#).count == 1)
        #expect(try errors(#"{"pattern": "^a+$", "minLength": 2}"#, #""a""#).count == 1)
        #expect(try errors(#"{"minimum": 1}"#, "0").count == 1)
        #expect(try errors(#"{"maximum": 1}"#, "2").count == 1)
        #expect(try errors(#"{"maximum": 1}"#, "1") == [])
        #expect(try errors(#"{"exclusiveMinimum": 0}"#, "0").count == 1)
        #expect(try errors(#"{"items": {"type": "string"}}"#, #"["a", 1]"#).map { $0.prefix(3) } == ["/1:"])
        #expect(try errors(#"{"oneOf": [{"type": "string"}, {"minLength": 1}]}"#, #""a""#).count == 1)
        #expect(try errors(#"{"anyOf": [{"type": "string"}, {"type": "null"}]}"#, "null") == [])
    }

    @Test func objectsAndReferences() throws {
        let schema = #"""
            {"type": "object", "required": ["a"], "additionalProperties": false,
             "properties": {"a": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "number"}}}
            """#
        #expect(try errors(schema, #"{"a": 1}"#) == [])
        #expect(try errors(schema, #"{"a": "x"}"#).map { $0.prefix(3) } == ["/a:"])
        #expect(try errors(schema, #"{"b": 1}"#) == [": missing required \"a\"", "/b: unknown property"])
        #expect(try errors(#"{"propertyNames": {"pattern": "^x"}}"#, #"{"y": 1}"#).count == 1)
        #expect(try errors(#"{"additionalProperties": {"type": "string"}}"#, #"{"y": 1}"#).count == 1)
    }
}
