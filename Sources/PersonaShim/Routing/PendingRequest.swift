/// A request the shim sent to a downstream server and is waiting on.
enum PendingRequest {
    case initialize(server: Int)
    /// The `server/discover` probe that tells a modern server from a legacy one.
    case discover(server: Int)
    /// One page of the server's `tools/list` or `prompts/list` (`key`); pages of an older listing are ignored.
    case list(server: Int, key: String, page: Int, generation: Int)
    case forward(ForwardedRequest)
    /// One page of one server's part of an aggregated list the agent asked for.
    case fanOutPage(fanOut: Int, server: Int, page: Int)
    /// A request the shim made for its own reasons (e.g. `logging/setLevel` fan-out); the answer is not needed.
    case internalRequest(server: Int)

    var server: Int {
        switch self {
        case .initialize(let server), .discover(let server), .list(let server, _, _, _), .fanOutPage(_, let server, _),
            .internalRequest(let server):
            server
        case .forward(let request): request.server
        }
    }

    /// Whether the agent waits for its answer.
    var isOwedToAgent: Bool {
        switch self {
        case .forward, .fanOutPage: true
        default: false
        }
    }
}

/// What an agent's request was about, for the audit trail and the result rewriting.
enum RequestSubject {
    case tool, prompt, resource, completion, subscription

    var auditField: StaticString {
        switch self {
        case .tool: "tool"
        case .prompt: "prompt"
        case .resource, .subscription: "resource"
        case .completion: "ref"
        }
    }

    /// The kind of thing the policy judges.
    var policyKind: PolicySubject.Kind {
        switch self {
        case .tool: .tool
        case .prompt: .prompt
        case .resource, .subscription: .resource
        case .completion: .completion
        }
    }
}

/// An agent's request on its way through a downstream server. A class, so that handing it along is one retain.
final class ForwardedRequest {
    let agentID: [UInt8]
    let server: Int
    let method: String
    let subject: RequestSubject
    /// The tool or prompt name, or the URI, as the agent sees it.
    let exposedName: String
    /// The request's server, method and name as its audit records carry them (`RecordedEntry.subject`).
    let recordedSubject: [UInt8]
    /// The SHA-256 of the canonical arguments.
    let argsDigest: SHA256.Digest?
    let started: UInt64
    let deadline: UInt64
    /// The shim's progress token for this request, if the agent asked for progress.
    let progressToken: Int?
    /// A modern agent's client capabilities for this request (what it can answer if the server needs input).
    var clientCapabilities: JSONObject?
    /// For a legacy agent's request to a modern server: its params as the server got them, to retry it with the
    /// agent's answers if the server needs input.
    var retryParams: JSONObject?
    /// Which version of the persona judged it (see SessionCore+Reload.swift), so its answer is judged by the same.
    var personaGeneration = 0
    /// The log level a modern agent asked for with this request (`io.modelcontextprotocol/logLevel`), if any.
    var logLevel: LogLevel?

    init(
        agentID: [UInt8], server: Int, method: String, subject: RequestSubject, exposedName: String,
        recordedSubject: [UInt8], argsDigest: SHA256.Digest?, started: UInt64, deadline: UInt64, progressToken: Int?
    ) {
        self.agentID = agentID
        self.server = server
        self.method = method
        self.subject = subject
        self.exposedName = exposedName
        self.recordedSubject = recordedSubject
        self.argsDigest = argsDigest
        self.started = started
        self.deadline = deadline
        self.progressToken = progressToken
    }
}

/// A forward queued for a server whose write-ahead decision (audit record `sequence`) is not yet written: the
/// bytes it took in the server's queue, so they can be taken back if the record cannot be written.
struct UncommittedForward {
    var shimID: Int
    var server: Int
    var sequence: Int
    var bytes: Range<Int>
}

/// An aggregated list (`resources/list`, `resources/templates/list`) waiting for every server's pages.
struct FanOut {
    var agentID: [UInt8]
    var method: String
    /// `resources` or `resourceTemplates`.
    var key: String
    var waiting: Set<Int>
    var items: [Int: [JSONObject]] = [:]
}

/// A server's request (sampling, elicitation, roots) forwarded to the agent under the shim's own id.
struct AgentBoundRequest {
    var server: Int
    var serverID: [UInt8]
    var method: String
    /// Set when the shim asks on behalf of a modern server's `input_required` (`InputExchange`): its answer goes to
    /// that exchange under this key, not to the server.
    var exchange: (id: Int, key: String)? = nil
}

/// Where a progress notification for one of the shim's tokens goes: the agent's own token, and its request.
struct ProgressRoute {
    var agentToken: [UInt8]
    var request: Int
}
