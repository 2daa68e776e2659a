/// Every id the shim has handed out and what waits on it: requests sent to servers, requests from servers
/// relayed to the agent, progress tokens, aggregated lists and call deadlines. The session core is its only owner.
///
/// One counter numbers everything the shim sends under its own ids (requests to servers, relayed server requests,
/// progress tokens), so an id never means two things and two servers can both use id 1.
struct RoutingTable {
    private(set) var nextID = 1
    /// Requests sent to servers, by the shim's id.
    var pending: [Int: PendingRequest] = [:]
    /// Server requests relayed to the agent, by the shim's id.
    var agentBound: [Int: AgentBoundRequest] = [:]
    /// The shim's progress tokens.
    var progressRoutes: [Int: ProgressRoute] = [:]
    /// Aggregated lists waiting for servers' pages, by their own id.
    var fanOuts: [Int: FanOut] = [:]
    /// URL-mode elicitations a server started (or said it requires): only that server may say one is complete.
    var urlElicitations = URLElicitations()
    /// Forwarded requests' deadlines, in the order they were made (every call has the same timeout, so this is
    /// also deadline order); entries before `callTimeoutHead` are done.
    private var callTimeouts: [(deadline: UInt64, id: Int)] = []
    private var callTimeoutHead = 0

    /// A fresh id, never used before in this session.
    mutating func allocateID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    /// Sends nothing: registers a forwarded request under a fresh id, with its deadline and progress route.
    mutating func addForward(_ request: ForwardedRequest, id: Int, agentToken: [UInt8]?) {
        pending[id] = .forward(request)
        callTimeouts.append((request.deadline, id))
        if let token = request.progressToken, let agentToken {
            progressRoutes[token] = ProgressRoute(agentToken: agentToken, request: id)
        }
    }

    /// Hands a request a server is still working on (`id`, held meanwhile as an internal request) to another agent
    /// request: the retry that answered the server's question. Its old deadline no longer applies.
    mutating func rebind(_ id: Int, to request: ForwardedRequest) {
        if let stale = callTimeouts[callTimeoutHead...].firstIndex(where: { $0.id == id }) {
            callTimeouts.remove(at: stale)
        }
        addForward(request, id: id, agentToken: nil)
    }

    /// Forgets a forwarded request and its progress token; returns it if it was still waiting.
    @discardableResult
    mutating func finish(_ id: Int) -> ForwardedRequest? {
        guard case .forward(let request)? = pending.removeValue(forKey: id) else { return nil }
        if let token = request.progressToken { progressRoutes[token] = nil }
        return request
    }

    /// The forwarded requests the agent is waiting on, by the shim's id.
    func forwards(where predicate: (ForwardedRequest) -> Bool) -> [(Int, ForwardedRequest)] {
        pending.compactMap { entry in
            if case .forward(let request) = entry.value, predicate(request) { return (entry.key, request) }
            return nil
        }
    }

    /// Whether any request the agent waits on is still with a server.
    var owesAgent: Bool { pending.values.contains { $0.isOwedToAgent } || !fanOuts.isEmpty }

    /// The earliest deadline of a forwarded request still waiting.
    mutating func nextCallDeadline() -> UInt64? {
        skipFinishedTimeouts()
        return callTimeoutHead < callTimeouts.count ? callTimeouts[callTimeoutHead].deadline : nil
    }

    /// Removes and returns the forwarded requests whose deadline passed.
    mutating func takeExpired(now: UInt64) -> [(Int, ForwardedRequest)] {
        var expired: [(Int, ForwardedRequest)] = []
        while true {
            skipFinishedTimeouts()
            guard callTimeoutHead < callTimeouts.count, callTimeouts[callTimeoutHead].deadline <= now else { break }
            let id = callTimeouts[callTimeoutHead].id
            callTimeoutHead += 1
            if let request = finish(id) { expired.append((id, request)) }
        }
        if callTimeoutHead > 1024 && callTimeoutHead * 2 > callTimeouts.count {
            callTimeouts.removeFirst(callTimeoutHead)
            callTimeoutHead = 0
        }
        return expired
    }

    private mutating func skipFinishedTimeouts() {
        while callTimeoutHead < callTimeouts.count {
            guard case .forward? = pending[callTimeouts[callTimeoutHead].id] else {
                callTimeoutHead += 1
                continue
            }
            return
        }
    }
}
