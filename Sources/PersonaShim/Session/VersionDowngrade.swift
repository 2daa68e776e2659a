/// Makes what servers send fit an agent that negotiated an older protocol revision.
///
/// Children may speak a newer revision than the agent; fields the agent's revision does not know are removed,
/// and content it cannot represent becomes text, so a 2025-03-26 agent never sees `structuredContent` or a
/// `resource_link` block.
struct VersionDowngrade {
    let version: String

    /// Dates compare correctly as strings.
    private func before(_ revision: String) -> Bool { version < revision }

    /// Whether tool and prompt results can hold something this agent's revision lacks.
    var rewritesResults: Bool { before("2025-06-18") }

    /// Byte patterns that mark such content in a result (a cheap test before parsing it).
    static let resultMarkers = [#""structuredContent""#, #""resource_link""#, #""audio""#, #""_meta""#]

    /// A tool, prompt, resource or template definition.
    func definition(_ object: JSONObject) -> JSONObject {
        var object = object
        if before("2025-11-25") {
            object["icons"] = nil
            object["execution"] = nil
        }
        if before("2025-06-18") {
            object["title"] = nil
            object["outputSchema"] = nil
            object["_meta"] = nil
            if case .array(let arguments)? = object["arguments"] {
                object["arguments"] = .array(
                    arguments.map { argument in
                        guard case .object(var argument) = argument else { return argument }
                        argument["title"] = nil
                        return .object(argument)
                    })
            }
        }
        if before("2025-03-26") { object["annotations"] = nil }
        return object
    }

    /// A `tools/call` result.
    func toolResult(_ value: JSONValue) -> JSONValue {
        guard case .object(var result) = value else { return value }
        if before("2025-06-18"), let structured = result["structuredContent"] {
            result["structuredContent"] = nil
            // The agent must not lose what only the structured form said: carry it as JSON text, unless a text
            // block already holds exactly that JSON.
            var content = result["content"]?.arrayValue ?? []
            let alreadyCarried = content.contains { block in
                block["type"] == "text"
                    && block["text"]?.stringValue.flatMap { try? JSONValue(parsing: $0) } == structured
            }
            if !alreadyCarried {
                content.append(["type": "text", "text": .string(JSONWriter.string(structured))])
            }
            result["content"] = .array(content)
        }
        if let content = result["content"] { result["content"] = contentBlocks(content) }
        return .object(result)
    }

    /// A `prompts/get` result.
    func promptResult(_ value: JSONValue) -> JSONValue {
        guard case .object(var result) = value, case .array(let messages)? = result["messages"] else { return value }
        result["messages"] = .array(
            messages.map { message in
                guard case .object(var message) = message, let content = message["content"] else { return message }
                message["content"] = contentBlock(content)
                return .object(message)
            })
        return .object(result)
    }

    private func contentBlocks(_ value: JSONValue) -> JSONValue {
        guard case .array(let blocks) = value else { return value }
        return .array(blocks.map(contentBlock))
    }

    private func contentBlock(_ block: JSONValue) -> JSONValue {
        guard case .object(var object) = block else { return block }
        switch object["type"]?.stringValue {
        case "resource_link" where before("2025-06-18"):
            let name = object["name"]?.stringValue ?? "resource"
            let uri = object["uri"]?.stringValue ?? ""
            return ["type": "text", "text": .string("\(name): \(uri)")]
        case "audio" where before("2025-03-26"):
            return ["type": "text", "text": "[audio content omitted: the client's protocol version cannot show it]"]
        default:
            if before("2025-06-18") { object["_meta"] = nil }
            return .object(object)
        }
    }
}
