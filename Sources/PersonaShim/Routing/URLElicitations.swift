/// URL-mode elicitations servers started (or said they require) that the agent may hear completed, under the id the
/// agent knows each by. Servers choose their ids on their own, so two may pick the same one: an id another server's
/// open elicitation already uses is exposed with a suffix, so that the agent can tell the two apart and no server can
/// complete, or pass for, another's.
struct URLElicitations {
    private struct Key: Hashable {
        var server: Int
        var id: String
    }

    private var exposedIDs: [Key: String] = [:]
    private var taken: Set<String> = []
    private var suffix = 0

    /// The id the agent knows server `server`'s elicitation `id` by; the first time, it is registered.
    mutating func expose(_ id: String, server: Int) -> String {
        let key = Key(server: server, id: id)
        if let exposed = exposedIDs[key] { return exposed }
        var exposed = id
        while taken.contains(exposed) {
            suffix += 1
            exposed = "\(id)~\(suffix)"
        }
        exposedIDs[key] = exposed
        taken.insert(exposed)
        return exposed
    }

    /// Server `server` says its elicitation `id` is complete: the id the agent knows it by, forgotten from now on, or
    /// nil if that server has no such elicitation open.
    mutating func complete(_ id: String, server: Int) -> String? {
        guard let exposed = exposedIDs.removeValue(forKey: Key(server: server, id: id)) else { return nil }
        taken.remove(exposed)
        return exposed
    }
}
