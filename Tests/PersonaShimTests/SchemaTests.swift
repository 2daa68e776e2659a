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
         "transport": {"maxAgentMessageBytes": 65536, "maxServerMessageBytes": 1048576}}
        """#

    @Test func aPersonaUsingEveryKeyIsAcceptedByBoth() throws {
        #expect(validator.errors(try JSONValue(parsing: Self.valid)) == [])
        let loaded = PersonaLoader.decode(bytes: Array(Self.valid.utf8), path: "/p/p.json", now: now)
        #expect(!loaded.diagnostics.hasErrors, "\(loaded.diagnostics)")
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
