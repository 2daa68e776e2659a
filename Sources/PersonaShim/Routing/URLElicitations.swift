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

    /// Open elicitations remembered at most: a server that never completes its own cannot grow the table without
    /// bound. Past it, new ones still reach the agent, but their completions are not passed on.
    static let limit = 1024

    /// The id the agent knows server `server`'s elicitation `id` by; the first time, it is registered.
    mutating func expose(_ id: String, server: Int) -> String {
        let key = Key(server: server, id: id)
        if let exposed = exposedIDs[key] { return exposed }
        guard exposedIDs.count < Self.limit else { return id }
        var exposed = id
        while taken.contains(exposed) {
            suffix += 1
            exposed = "\(id)~\(suffix)"
        }
        exposedIDs[key] = exposed
        taken.insert(exposed)
        return exposed
    }

    /// Forgets a server's open elicitations (it went away; a new process knows none of them).
    mutating func forget(server: Int) {
        for (key, exposed) in exposedIDs where key.server == server {
            exposedIDs[key] = nil
            taken.remove(exposed)
        }
    }

    /// Server `server` says its elicitation `id` is complete: the id the agent knows it by, forgotten from now on, or
    /// nil if that server has no such elicitation open.
    mutating func complete(_ id: String, server: Int) -> String? {
        guard let exposed = exposedIDs.removeValue(forKey: Key(server: server, id: id)) else { return nil }
        taken.remove(exposed)
        return exposed
    }
}
