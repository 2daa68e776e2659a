/// One downstream server as the session core sees it: what it told us about itself, where its handshake and
/// listings stand, and the bytes waiting to be written to it. Its process, pipes and readers belong to the shell
/// (`ServerProcess`), so the core can be driven in a test without any process.
final class Server {
    enum Phase: Equatable {
        case idle, initializing, listing, ready
        /// Never became usable (could not start, or did not finish `initialize` in time).
        case failed
        /// Was running and went away (it may be restarted).
        case gone
    }

    let spec: ServerSpec
    let index: Int
    /// What the shell writes to the server's stdin, once the audit records covering it are on file.
    let input = OutputBuffer()
    /// Forwards queued since its input was last written (see `SessionCore.releaseGroup`).
    var forwardsSinceFlush = 0
    var phase: Phase = .idle
    var tools: [JSONObject] = []
    var prompts: [JSONObject] = []
    var partialList: [JSONObject] = []
    var partialPrompts: [JSONObject] = []
    /// The current listing of each list; a `list_changed` during a listing starts a new one.
    var listGeneration: [String: Int] = [:]
    /// Lists still being fetched before the server counts as ready.
    var listsPending = 0
    /// Lists being fetched now, and lists that changed again meanwhile: fetched once more when the current
    /// listing ends, however many changes were announced (one listing in flight per list).
    var listing: Set<String> = []
    var relistWanted: Set<String> = []
    var notificationBudget = NotificationBudget()
    var serverInfo: JSONValue?
    var capabilities = JSONObject()
    var protocolVersion: String?
    /// What its `server/discover` probe found, for this process (a restarted server is probed again).
    var era: ProtocolEra = .legacy
    /// When its probe counts as unanswered, and the probe's id.
    var probe: (deadline: UInt64, id: Int)?
    /// Why it refused `initialize`, when the shim then probed it for a modern server.
    var handshakeRefusal: String?
    /// Whether its process runs: from `serverStarted` until `serverExited`.
    var isRunning = false
    /// Whether its stdin takes bytes: from `serverStarted` until it closes or the shim stops the server.
    var inputOpen = false
    var exitStatus: ExitStatus?
    var startedAt: UInt64 = 0
    /// When and how often it is restarted, and when that stops.
    var restartPolicy = RestartPolicy()
    var restartAt: UInt64?
    /// Set when the shim itself stopped the server (timeout, shutdown): no restart then.
    var stoppedByShim = false
    /// Taken out of the persona by a reload: never started again, and its name now means any newer entry.
    var retired = false

    init(spec: ServerSpec, index: Int) {
        self.spec = spec
        self.index = index
    }

    var name: String { spec.name }
    var isSettled: Bool { phase == .ready || phase == .failed || phase == .gone }
    /// Past `initialize`: its capabilities are known (or it will never have any).
    var hasAnsweredInitialize: Bool { phase != .idle && phase != .initializing }
    /// Whether it takes messages: its handshake is done or under way.
    var isConnected: Bool { phase == .listing || phase == .ready }

    func offers(_ capability: String) -> Bool { phase == .ready && capabilities[capability] != nil }

    /// Forgets the previous process before a restart.
    func resetForRestart() {
        isRunning = false
        inputOpen = false
        exitStatus = nil
        stoppedByShim = false
        input.discardAll()
        forwardsSinceFlush = 0
        phase = .idle
        era = .legacy
        probe = nil
        handshakeRefusal = nil
        partialList = []
        partialPrompts = []
        listsPending = 0
        listing = []
        relistWanted = []
    }
}
