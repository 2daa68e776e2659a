/// One agent connection's protocol state, with no I/O of its own: the shell (`ShimSession`) feeds it events
/// (an agent line, a server line, a server started or exited, a timer, a signal) and takes from it what to do:
/// bytes for the agent (`agentOutput`) and for each server (`output(for:)`), `actions` (start, stop, restart a
/// server) and when to wake it next (`nextDeadline`). Time is what the shell says it is (`now`), so a test drives
/// the whole protocol in-process on a fake clock.
///
/// The core owns the routing table, the catalog, the policy engine and the session's single audit writer; the
/// order of audit records is the order of events.
final class SessionCore {
    var configuration: ShimConfiguration
    var logger: Logger { configuration.logger }
    var persona: Persona { configuration.persona }
    let audit: AuditLog
    var policy: PolicyEngine
    var uris: ResourceURIs

    /// Monotonic nanoseconds, set by the shell before each event.
    var now: UInt64 = 0
    /// Bytes for the agent.
    let agentOutput = OutputBuffer()
    /// What the shell must do, in order; it takes them with `takeActions()`.
    private(set) var actions: [SessionAction] = []
    /// Servers holding a full group of forwards, which the shell writes at once (`releaseGroup`).
    var fullGroups: [Int] = []

    var agentGone = false
    var agentInitialized = false
    /// Set by the agent's first `initialize` (legacy) or first stateless request (modern); see `ProtocolEra`.
    var agentEra: ProtocolEra?
    var agentProtocolVersion = MCPProtocol.latestVersion
    var downgrade = VersionDowngrade(version: MCPProtocol.latestVersion)
    /// The agent's declared client capabilities (sampling, elicitation, roots).
    var agentCapabilities = JSONObject()
    /// What the shim offers servers as their client: the agent's capabilities that the persona allows.
    var serverClientCapabilities = JSONObject()
    /// The agent's `initialize`, answered once every server has answered its own.
    var pendingInitializeID: [UInt8]?
    var sessionStarted = false

    var servers: [Server]
    var routes = RoutingTable()
    var initializeDeadlines: [(deadline: UInt64, server: Int)] = []
    var startupDeadline: UInt64?
    var startupComplete = false
    var deferredAgentLines: [[UInt8]] = []
    /// Set once the session is ending: nothing new is started.
    var stopping = false

    var catalog = ToolCatalog()
    var toolsListResult: [UInt8] = Array(#"{"tools":[]}"#.utf8)
    /// Audit fields per catalog entry (by entry index), made on first use; cleared when the catalogs are rebuilt.
    var recordedTools: [RecordedEntry?] = []
    var recordedPrompts: [RecordedEntry?] = []
    var promptCatalog = ToolCatalog()
    var promptsListResult: [UInt8] = Array(#"{"prompts":[]}"#.utf8)
    /// Resource URIs (as the agent sees them) the agent subscribed to.
    var subscriptions: Set<String> = []
    /// The level the agent asked for with `logging/setLevel`.
    var logLevel: String?
    /// List changes waiting to be announced to the agent, coalesced over a short window.
    var pendingListChanges: Set<String> = []
    var listChangeDeadline: UInt64?
    /// Whether the agent could already have seen a tool list (only then is a change worth announcing).
    var catalogPublished = false

    /// The persona's per-call rules with the session's history (limits, behaviour, taint); nil when it has none,
    /// and then a call pays nothing for them. Boxed, so every use mutates it in place: optional chaining on a
    /// struct held by a class copied the whole session (and retained each of its arrays) on every call.
    var calls: CallRulesBox?
    /// Masking and the outbound secrets check; nil when the persona has neither, and then answers are never parsed
    /// for it.
    var masking: SessionMasking?
    /// How each server would resolve a path argument (its working directory, the user's home).
    var paths: [PathResolver]
    /// The wall clock, for limits counted per calendar interval across sessions (a fixed one in tests).
    var wallClock: () -> Instant = { .now }

    /// The client capabilities of the modern request being handled, read once by `admitModernRequest` (nil
    /// otherwise), and the last `clientInfo` bytes a modern agent sent (its identity is read again only on a change).
    var currentCapabilities: JSONObject?
    var lastClientInfo: [UInt8]?
    /// The last capabilities object a modern agent declared that is not `{}`, as sent and as read.
    var lastCapabilities: (bytes: [UInt8], value: JSONObject)?
    /// The last valid modern `_meta`, as bytes, with what was read from it (ranges relative to its start): an agent
    /// sends the same `_meta` on request after request, and then it is not read again (`validModernMeta`).
    var lastModernMeta: ModernMetaMemo?
    /// A modern agent's open `subscriptions/listen` requests: their ids (as sent, and as a value) and the lists whose
    /// changes each asked for and was granted.
    var listens: [(id: [UInt8], value: JSONValue, lists: Set<String>)] = []
    /// The resources (as the agent sees them) each of a modern agent's listens was granted, by listen id.
    var listenResources: [[UInt8]: [String]] = [:]
    /// The shim's own listen on each modern server, and the resources (as the server knows them) it asked for.
    var serverListens: [Int: (id: Int, resources: Set<String>)] = [:]
    /// The resources the shim subscribed to on each legacy server process (by start time) for a modern agent.
    var shimSubscriptions: [Int: (uris: Set<String>, process: UInt64)] = [:]
    /// Legacy agents' requests waiting for the agent's answers to a modern server's questions.
    var exchanges: [Int: InputExchange] = [:]
    /// The `requestState`s of multi round-trip requests while a modern agent holds them.
    lazy var requestStates = RequestStateSeal(session: audit.session)
    /// Legacy servers' requests held while a modern agent answers them, by ticket (`HeldServerRequest`).
    var heldServerRequests: [Int: HeldServerRequest] = [:]
    /// The level each legacy server process (by its start time) was last set to for a modern agent's request.
    var legacyServerLevels: [Int: (level: String, process: UInt64)] = [:]

    /// Calls waiting for a person's approval, and the questions put to new-era agents.
    var approvals = ApprovalBook()

    var auditFlushDeadline: UInt64?
    /// Set while an operator's kill switch stops this persona (see SessionCore+KillSwitch.swift).
    var killSwitch: KillSwitchState?
    /// How many times the persona was reloaded, and the policies that judged requests still in flight from before
    /// (see SessionCore+Reload.swift).
    var personaGeneration = 0
    var retiredPolicies: [Int: PolicyEngine] = [:]
    /// Forwards queued for a server whose write-ahead decision is staged but not yet written.
    var uncommitted: [UncommittedForward] = []

    init(configuration: ShimConfiguration, audit: AuditLog) {
        self.configuration = configuration
        self.audit = audit
        let persona = configuration.persona
        self.policy = PolicyEngine(persona: persona)
        self.uris = ResourceURIs(servers: persona.servers.map(\.name))
        self.servers = persona.servers.enumerated().map { Server(spec: $1, index: $0) }
        self.calls =
            persona.callPolicy.isEmpty
            ? nil
            : CallRulesBox(CallPolicySession(policy: persona.callPolicy, sharedLimits: configuration.sharedLimits))
        self.masking = persona.masking.map { SessionMasking(policy: $0) }
        let home = Paths.home(configuration.environment)
        self.paths = persona.servers.map {
            PathResolver(
                fileSystem: configuration.fileSystem, home: home,
                workingDirectory: $0.command.workingDirectory ?? configuration.workingDirectory)
        }
    }

    /// How many forwards a server gets at once, or answers the agent gets at once, while more are being handled.
    static let releaseGroup = 16
    /// How long an outcome record may wait to share a write with the next decision.
    static let auditBatchWindow: UInt64 = 50_000_000
    /// Requests queued while servers start, at most; past this the shell stops reading the agent until they drain.
    static let deferredLimit = 10_000
    /// Bytes queued for one peer past which whoever feeds that queue is no longer read.
    static let highWater = 64 * 1024 * 1024

    func takeActions() -> [SessionAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    func perform(_ action: SessionAction) { actions.append(action) }

    // MARK: Output

    /// `marked`: the bytes are known to need no `resultType` (notifications, or a result built with it).
    func sendToAgent(_ bytes: [UInt8], marked: Bool = false) {
        guard !agentGone else { return }
        agentOutput.append(agentEra == .modern && !marked ? ModernResult.mark(bytes) : bytes)
    }

    /// The bytes for server `index`, made safe to write: the audit records of every forward among them are
    /// written first, and forwards whose records could not be written are taken back and refused. The shell
    /// writes to a server only through this, so no request reaches a server before its decision is on file.
    func output(for index: Int) -> OutputBuffer {
        if !uncommitted.isEmpty { commitAudit() }
        servers[index].forwardsSinceFlush = 0
        return servers[index].input
    }

    /// A server's stdin closed: what waits for it can no longer be written.
    func serverInputClosed(_ index: Int) {
        servers[index].inputOpen = false
        servers[index].input.discardAll()
    }

    /// Writes the audit records that wait, then settles the forwards they cover: released to their servers when
    /// their decision reached the file, taken back and refused when it did not.
    func commitAudit() {
        auditFlushDeadline = nil
        if audit.hasPending {
            do {
                try audit.flush()
            } catch {
                logger.error("\(error)")
            }
        }
        guard !uncommitted.isEmpty else { return audit.forgetDropped() }
        let unwritten = uncommitted.filter { !audit.wasWritten($0.sequence) }
        uncommitted.removeAll(keepingCapacity: uncommitted.capacity <= 4096)
        audit.forgetDropped()
        if !unwritten.isEmpty { withdraw(unwritten) }
    }

    /// Takes forwards whose decision could not be written out of their servers' queues, and refuses them.
    private func withdraw(_ forwards: [UncommittedForward]) {
        for server in servers {
            let ranges = forwards.filter { $0.server == server.index }.map(\.bytes)
            if !ranges.isEmpty { server.input.withdraw(ranges) }
        }
        let reason = audit.lastFailure?.reason ?? "the write failed"
        for forward in forwards {
            // A request the agent cancelled meanwhile is owed no answer.
            guard let request = routes.finish(forward.shimID) else { continue }
            logger.error("refusing \(request.method) \(request.exposedName): its audit record could not be written")
            let sentence =
                "persona-shim refused this request because it could not write the audit record (\(reason)). It was not forwarded. Ask the user to fix the audit file \(audit.path)."
            refuse(request.agentID, request.subject, sentence, code: JSONRPCError.internalError)
        }
    }

    /// Answers a refused request: a tool call gets a tool result with `isError` (the model reads it and can tell
    /// the person); other requests get a JSON-RPC error with `code`.
    func refuse(_ agentID: [UInt8], _ subject: RequestSubject, _ sentence: String, code: Int) {
        if subject == .tool {
            sendToAgent(Message.response(id: agentID, result: Message.toolError(sentence)))
        } else {
            sendToAgent(Message.error(id: agentID, code: code, message: sentence))
        }
    }

    func indexOfServer(_ name: String) -> Int {
        // The newest entry of that name: a reload may have retired an older one.
        servers.lastIndex { $0.name == name } ?? 0
    }

    // MARK: Flow control

    /// Whether answers to the agent are piling up (it is not reading): then its requests wait unread.
    var agentBacklogged: Bool { agentOutput.count > Self.highWater }

    /// Whether the agent's requests must wait: its answers pile up, a server is not reading its requests,
    /// or too many wait for the servers to start.
    var agentInputPaused: Bool {
        agentBacklogged || deferredAgentLines.count >= Self.deferredLimit
            || servers.contains { $0.input.count > Self.highWater }
    }

    /// Whether anything is still owed to the agent: answers in flight or queued.
    var owesAgent: Bool {
        guard !agentGone else { return false }
        return routes.owesAgent || !approvals.parked.isEmpty || pendingInitializeID != nil
            || !deferredAgentLines.isEmpty || !agentOutput.isEmpty
    }

    /// The agent's output closed: nobody is left to answer.
    func agentWentAway() {
        agentGone = true
        agentOutput.discardAll()
    }
}
