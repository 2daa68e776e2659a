/// What the agent sees (list phase): the tool and prompt catalogs over every ready server, rebuilt when a server
/// comes, goes or changes its lists, and the agent told (once, coalesced) when that changed.
extension SessionCore {
    func rebuildCatalog() {
        let ready = servers.filter { $0.phase == .ready }
        catalog = ToolCatalog(tools: ready.map { ($0.name, $0.tools) }, policy: policy)
        recordedTools = []
        recordedPrompts = []
        let tools = JSONValue.array(
            catalog.visible.map { entry in
                var definition = entry.definition
                definition["execution"] = nil  // Tasks are not mapped yet: tools are called the plain way.
                return .object(downgrade.definition(definition))
            })
        promptCatalog = ToolCatalog(
            servers: ready.map { ($0.name, $0.prompts) }, kind: .prompt, scope: policy.promptVisibility)
        let prompts = JSONValue.array(promptCatalog.visible.map { .object(downgrade.definition($0.definition)) })
        let newTools = JSONWriter.encode(.object(JSONObject([("tools", tools)])))
        let newPrompts = JSONWriter.encode(.object(JSONObject([("prompts", prompts)])))
        if newTools != toolsListResult { announceListChange("tools") }
        if newPrompts != promptsListResult { announceListChange("prompts") }
        toolsListResult = newTools
        promptsListResult = newPrompts
        catalogPublished = startupComplete
    }
}
