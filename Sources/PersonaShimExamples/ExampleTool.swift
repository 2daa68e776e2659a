// Tool definitions and results for the example servers.

import MCPWire

/// The behaviour hints of a tool (`annotations` in tools/list). The example servers live in a closed in-memory
/// world, so `openWorldHint` is always false.
package struct ExampleToolHints: Sendable {
    package var readOnly: Bool
    package var destructive: Bool
    package var idempotent: Bool

    package static let readOnly = ExampleToolHints(readOnly: true, destructive: false, idempotent: true)
    package static let additive = ExampleToolHints(readOnly: false, destructive: false, idempotent: false)
    package static let destructive = ExampleToolHints(readOnly: false, destructive: true, idempotent: false)
}

/// One tool as advertised by tools/list.
package struct ExampleTool: Sendable {
    package var name: String
    package var title: String
    package var description: String
    package var inputSchema: JSONValue
    package var outputSchema: JSONValue?
    package var hints: ExampleToolHints

    package init(
        name: String, title: String, description: String, inputSchema: JSONValue, outputSchema: JSONValue? = nil,
        hints: ExampleToolHints
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.hints = hints
    }

    /// The tool's entry in a tools/list result.
    package var definition: JSONValue {
        var tool: JSONValue = [
            "name": .string(name),
            "title": .string(title),
            "description": .string(description),
            "inputSchema": inputSchema,
        ]
        if let outputSchema { tool = tool.setting("outputSchema", to: outputSchema) }
        return tool.setting(
            "annotations",
            to: [
                "title": .string(title),
                "readOnlyHint": .bool(hints.readOnly),
                "destructiveHint": .bool(hints.destructive),
                "idempotentHint": .bool(hints.idempotent),
                "openWorldHint": false,
            ])
    }
}

/// The outcome of a tools/call that reached a tool (protocol-level failures are `ExampleProtocolError`).
package struct ExampleToolResult: Sendable {
    package var text: String
    package var structuredContent: JSONValue?
    package var isError: Bool

    /// A successful result presenting `record` both as pretty JSON text and as structured content, optionally led by
    /// a sentence so that a model reading only the text still learns what changed.
    package static func record(_ record: JSONValue, summary: String? = nil) -> ExampleToolResult {
        let json = JSONWriter.pretty(record)
        let text = summary.map { "\($0)\n\n\(json)" } ?? json
        return ExampleToolResult(text: text, structuredContent: record, isError: false)
    }

    /// A tool execution error the model can read and correct (unknown ids, invalid arguments, refused operations).
    package static func failure(_ message: String) -> ExampleToolResult {
        ExampleToolResult(text: message, structuredContent: nil, isError: true)
    }

    /// The CallToolResult object.
    package var json: JSONValue {
        var result: JSONValue = ["content": [["type": "text", "text": .string(text)]]]
        if let structuredContent { result = result.setting("structuredContent", to: structuredContent) }
        if isError { result = result.setting("isError", to: true) }
        return result
    }
}

/// A JSON-RPC error to answer instead of a result.
package struct ExampleProtocolError: Error, Sendable {
    package var code: Int
    package var message: String

    package init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}

/// Terse builders for the JSON Schemas in tool definitions.
package enum ExampleSchema {
    /// An object schema that rejects unknown properties, as the servers' argument checks do.
    package static func object(
        _ properties: KeyValuePairs<String, JSONValue>, required: [String], description: String? = nil
    ) -> JSONValue {
        object(properties.map { ($0.key, $0.value) }, required: required, description: description)
    }

    package static func object(
        _ properties: [(String, JSONValue)], required: [String], description: String? = nil
    ) -> JSONValue {
        var schema: JSONValue = [
            "type": "object",
            "properties": .members(properties),
            "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ]
        if let description { schema = schema.setting("description", to: .string(description)) }
        return schema
    }

    package static func string(_ description: String, extra: KeyValuePairs<String, JSONValue> = [:]) -> JSONValue {
        .members([("type", "string"), ("description", .string(description))] + extra.map { ($0.key, $0.value) })
    }

    package static func integer(_ description: String, extra: KeyValuePairs<String, JSONValue> = [:]) -> JSONValue {
        .members([("type", "integer"), ("description", .string(description))] + extra.map { ($0.key, $0.value) })
    }

    package static func array(_ description: String, items: JSONValue) -> JSONValue {
        ["type": "array", "description": .string(description), "items": items]
    }

    package static func enumeration(_ description: String, _ values: [String]) -> JSONValue {
        ["type": "string", "description": .string(description), "enum": .array(values.map { .string($0) })]
    }
}
