// The fixture's tools and its precomputed tools/list responses.

import MCPWire
import PersonaShimExamples

/// Keeps the many schema literals below readable.
private typealias Schema = ExampleSchema

/// What a fixture tool does when called.
enum FixtureBehaviour {
    case echo, blob, raw, slow, crash, fail, protocolError, hang, notify, ask, badUTF8, readFile
    /// One of FixtureHostile's tools, which tells them apart by name.
    case misbehave
    /// One of FixtureMaskingTools' tools (planted secrets and personal data), told apart by name.
    case leak
}

/// All tools of one fixture instance, with tools/list result bytes built once at startup.
struct FixtureCatalog {
    /// Tool name → behaviour; the first tool of a name wins if --tool-names repeats one.
    let behaviours: [String: FixtureBehaviour]
    /// Serialised `result` objects of tools/list, one per page.
    let pages: [[UInt8]]
    /// Cursor → page index, for every page but the first.
    let cursors: [String: Int]

    init(options: FixtureOptions) {
        var tools = Self.builtInTools
        if options.protocolTools { tools += Self.protocolTools }
        if options.hostileTools { tools += Self.hostileTools }
        if options.misbehavingTools { tools += FixtureHostile.tools }
        if options.policyTools { tools += FixturePolicyTools.tools }
        if options.maskingTools { tools += FixtureMaskingTools.tools }
        tools += (0..<options.generatedToolCount).map { Self.generatedTool($0) }
        tools += options.extraToolNames.map { name in
            (
                Self.tool(
                    name: name, title: "Extra tool \(name)",
                    description: "Extra fixture tool; echoes its arguments.", input: Self.anyArguments,
                    readOnly: true), FixtureBehaviour.echo
            )
        }
        var behaviours: [String: FixtureBehaviour] = [:]
        for (definition, behaviour) in tools {
            if let name = definition["name"]?.stringValue, behaviours[name] == nil { behaviours[name] = behaviour }
        }
        self.behaviours = behaviours

        let pageSize = options.pageSize ?? max(tools.count, 1)
        var pages: [[UInt8]] = []
        var cursors: [String: Int] = [:]
        for start in stride(from: 0, to: max(tools.count, 1), by: pageSize) {
            let end = min(start + pageSize, tools.count)
            var result: JSONValue = ["tools": .array(tools[start..<end].map(\.0))]
            if end < tools.count {
                let cursor = ExamplePageCursor.encode(offset: end)
                cursors[cursor] = pages.count + 1
                result = result.setting("nextCursor", to: .string(cursor))
            }
            pages.append(JSONWriter.encode(result))
        }
        self.pages = pages
        self.cursors = cursors
    }

    // MARK: Built-in tools

    private static let anyArguments: JSONValue = [
        "type": "object",
        "description": "Any arguments; they are returned verbatim.",
        "additionalProperties": true,
    ]

    private static let noArguments: JSONValue = ["type": "object", "properties": [:], "additionalProperties": false]

    private static var builtInTools: [(JSONValue, FixtureBehaviour)] {
        [
            (
                tool(
                    name: "echo", title: "Echo",
                    description: "Returns the raw JSON text of its arguments as one text "
                        + "content block.", input: anyArguments, readOnly: true), .echo
            ),
            (
                tool(
                    name: "blob", title: "Blob",
                    description: "Returns one text block of exactly `bytes` 'x' characters.",
                    input: Schema.object(
                        [
                            "bytes": Schema.integer("Number of characters to return.", extra: ["minimum": 0])
                        ], required: ["bytes"]), readOnly: true), .blob
            ),
            (
                tool(
                    name: "raw", title: "Raw",
                    description: "Returns a fixed result containing numbers and escapes that "
                        + "a lossy JSON round trip would alter.", input: noArguments, readOnly: true), .raw
            ),
            (
                tool(
                    name: "slow", title: "Slow",
                    description: "Waits `ms` milliseconds, then answers like echo; other "
                        + "requests are served meanwhile.",
                    input: [
                        "type": "object",
                        "properties": [
                            "ms": Schema.integer("Delay in milliseconds.", extra: ["minimum": 0])
                        ], "required": ["ms"], "additionalProperties": true,
                    ], readOnly: true), .slow
            ),
            (
                tool(
                    name: "crash", title: "Crash",
                    description: "Exits the server process with status 5 without "
                        + "answering.", input: noArguments, readOnly: false, destructive: true), .crash
            ),
            (
                tool(
                    name: "fail", title: "Fail", description: "Returns a tool result with isError set.",
                    input: noArguments, readOnly: true), .fail
            ),
            (
                tool(
                    name: "protocol_error", title: "Protocol error",
                    description: "Answers with a JSON-RPC error "
                        + "(-32000) instead of a result.", input: noArguments, readOnly: true), .protocolError
            ),
            (
                tool(
                    name: "hang", title: "Hang",
                    description: "Never answers this request; other requests are still "
                        + "served.", input: noArguments, readOnly: true), .hang
            ),
        ]
    }

    /// Tools that make the server speak first: notifications during a call, and requests to the client.
    private static var protocolTools: [(JSONValue, FixtureBehaviour)] {
        [
            (
                tool(
                    name: "notify", title: "Notify",
                    description: "Sends `count` notifications of `kind` (progress, with the request's progress "
                        + "token, or message) before answering.",
                    input: Schema.object(
                        [
                            "count": Schema.integer("How many notifications.", extra: ["minimum": 0]),
                            "kind": ["type": "string", "enum": ["progress", "message"]],
                        ], required: ["count", "kind"]), readOnly: true), .notify
            ),
            (
                tool(
                    name: "ask", title: "Ask the client",
                    description: "Sends the request `method` (roots/list, sampling/createMessage, "
                        + "elicitation/create) to the client with the id \"fixture-ask\" and answers with the "
                        + "client's raw response.",
                    input: Schema.object(
                        ["method": ["type": "string"]], required: ["method"]), readOnly: true), .ask
            ),
        ]
    }

    /// Tools whose output breaks the rules, to show the shim does not pass it on.
    private static var hostileTools: [(JSONValue, FixtureBehaviour)] {
        [
            (
                tool(
                    name: "bad_utf8", title: "Bad UTF-8",
                    description: "Sends a log notification holding invalid UTF-8 (a bare 0xFF), then one saying "
                        + "\"after\", then answers like echo.", input: anyArguments, readOnly: true), .badUTF8
            )
        ]
    }

    private static func tool(
        name: String, title: String, description: String, input: JSONValue, readOnly: Bool, destructive: Bool = false
    ) -> JSONValue {
        [
            "name": .string(name),
            "title": .string(title),
            "description": .string(description),
            "inputSchema": input,
            "annotations": [
                "title": .string(title),
                "readOnlyHint": .bool(readOnly),
                "destructiveHint": .bool(destructive),
                "idempotentHint": .bool(readOnly),
                "openWorldHint": false,
            ],
        ]
    }

    // MARK: Generated tools

    private static let verbs = ["Search", "Get", "Create", "Update", "Archive", "Export", "Summarize", "Delete"]
    private static let resources = [
        ("invoice", "inv"), ("shipment", "shp"), ("repository", "rep"), ("calendar event", "evt"),
        ("support ticket", "tkt"), ("dataset", "dst"), ("deployment", "dep"), ("customer", "cus"),
        ("pull request", "prq"), ("warehouse item", "itm"), ("feature flag", "flg"),
    ]
    private static let statuses = [
        ["draft", "open", "paid", "void"], ["pending", "in_transit", "delivered", "returned"],
        ["active", "archived"], ["tentative", "confirmed", "cancelled"],
    ]

    /// A realistic, deterministic tool `tool_NNN`, so benchmarks see schemas shaped like real servers' ones.
    private static func generatedTool(_ index: Int) -> (JSONValue, FixtureBehaviour) {
        let verb = verbs[index % verbs.count]
        let (resource, prefix) = resources[(index / verbs.count) % resources.count]
        let plural = resource + "s"
        let name = "tool_" + String(repeating: "0", count: max(0, 3 - String(index).count)) + String(index)
        let description =
            "\(verb) \(plural) in the connected workspace. Accepts the \(resource) id, filters by status "
            + "and tags, and returns at most `limit` records ordered by last update. Fixture tool \(name) for load "
            + "and compatibility tests."
        let allProperties: [(String, JSONValue)] = [
            (
                "\(prefix)Id",
                Schema.string(
                    "Identifier of the \(resource), e.g. \"\(prefix)_0a1b2c3d\".",
                    extra: ["pattern": .string("^\(prefix)_[0-9a-f]{8}$")])
            ),
            (
                "status",
                Schema.enumeration(
                    "Only include \(plural) in this state.",
                    statuses[index % statuses.count])
            ),
            (
                "limit",
                Schema.integer(
                    "Maximum number of records to return.",
                    extra: ["minimum": 1, "maximum": 200, "default": 25])
            ),
            (
                "filter",
                Schema.object(
                    [
                        "createdAfter": Schema.string(
                            "ISO 8601 timestamp; only records created after it.",
                            extra: ["format": "date-time"]),
                        "fields": Schema.array("Fields to include in each record.", items: ["type": "string"]),
                        "includeArchived": ["type": "boolean", "description": "Also return archived records."],
                    ], required: [], description: "Advanced filtering options.")
            ),
            (
                "tags",
                Schema.array(
                    "Tags that every returned \(resource) must carry.",
                    items: ["type": "string", "minLength": 1, "maxLength": 40])
            ),
            (
                "query",
                Schema.string(
                    "Free-text search over names and descriptions.",
                    extra: ["minLength": 1, "maxLength": 256])
            ),
        ]
        let properties = Array(allProperties.prefix(4 + index % 3))
        let readOnly = ["Search", "Get", "Export", "Summarize"].contains(verb)
        let required = index % 2 == 0 ? ["\(prefix)Id", "status"] : ["\(prefix)Id"]
        let input = Schema.object(properties, required: required)
        let definition = tool(
            name: name, title: "\(verb) \(plural)", description: description, input: input,
            readOnly: readOnly, destructive: verb == "Delete" || verb == "Archive")
        return (definition, .echo)
    }
}
