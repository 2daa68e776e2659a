extension CallPolicy {
    /// A tool as the agent is to see it: annotation overrides applied, hidden (nil) under `readOnly` unless
    /// read-only, and its description, title and schema descriptions cleaned. `cleaned` is for the audit.
    /// `exposedName` is the name the agent sees, which the annotation patterns match.
    public func present(_ tool: JSONObject, exposedName: String) -> (tool: JSONObject, cleaned: Bool)? {
        var tool = tool
        if !annotations.isEmpty || readOnly {
            let declared = ToolHints(annotations: tool["annotations"])
            let hints = self.annotations(for: exposedName, declared: declared)
            guard showsUnderReadOnly(hints) else { return nil }
            if hints != declared {
                var object = tool["annotations"]?.objectValue ?? JSONObject()
                for (key, value) in [
                    ("readOnlyHint", hints.readOnlyHint), ("destructiveHint", hints.destructiveHint),
                    ("idempotentHint", hints.idempotentHint), ("openWorldHint", hints.openWorldHint),
                ] {
                    if let value { object[key] = .bool(value) }
                }
                tool["annotations"] = .object(object)
            }
        }
        let cleaned = MetadataText.cleanTool(&tool)
        return (tool, cleaned)
    }
}

extension MetadataText {
    /// Cleans a tool's `title` and `description`, its annotations' `title`, and every `title` and `description`
    /// inside its input and output schemas. Returns whether anything was removed.
    public static func cleanTool(_ tool: inout JSONObject) -> Bool {
        var cleaned = false
        for key in ["title", "description"] {
            if case .string(let text)? = tool[key] {
                let result = clean(text)
                if result.cleaned {
                    tool[key] = .string(result.text)
                    cleaned = true
                }
            }
        }
        if case .object(var annotations)? = tool["annotations"], case .string(let title)? = annotations["title"] {
            let result = clean(title)
            if result.cleaned {
                annotations["title"] = .string(result.text)
                tool["annotations"] = .object(annotations)
                cleaned = true
            }
        }
        for key in ["inputSchema", "outputSchema"] {
            guard var schema = tool[key] else { continue }
            if cleanSchema(&schema, depth: 0) {
                tool[key] = schema
                cleaned = true
            }
        }
        return cleaned
    }

    /// Depth-bounded: a schema nested deeper than the parser allows cannot arrive, and this keeps the walk
    /// safe if one ever did.
    private static func cleanSchema(_ value: inout JSONValue, depth: Int) -> Bool {
        guard depth < 128 else { return false }
        switch value {
        case .object(var object):
            var cleaned = false
            for index in object.members.indices {
                let key = object.members[index].key
                if (key == "description" || key == "title"), case .string(let text) = object.members[index].value {
                    let result = clean(text)
                    if result.cleaned {
                        object.members[index].value = .string(result.text)
                        cleaned = true
                    }
                } else if cleanSchema(&object.members[index].value, depth: depth + 1) {
                    cleaned = true
                }
            }
            if cleaned { value = .object(object) }
            return cleaned
        case .array(var elements):
            var cleaned = false
            for index in elements.indices where cleanSchema(&elements[index], depth: depth + 1) { cleaned = true }
            if cleaned { value = .array(elements) }
            return cleaned
        default:
            return false
        }
    }
}
