/// An agent persona: the job an agent is deployed to do, and the tools that job needs.
public struct Persona: Sendable {
    /// `monitor` evaluates and audits every call rule as `enforce` does, but lets refused calls through.
    public enum Mode: String, Sendable { case enforce, monitor }

    /// The persona's name, e.g. `support-reader`.
    public var name: String
    /// What the agent is for, in a sentence a reviewer can check tool calls against.
    public var purpose: String
    /// Who answers for this persona (a team or a person).
    public var owner: String
    /// When the persona must next be reviewed; after this day the shim warns.
    public var reviewBy: CalendarDate?
    /// After this day the shim refuses to start (and refuses calls in a session that outlives it).
    public var expires: CalendarDate?
    public var mode: Mode
    /// The downstream servers, in the order the persona declares them (this order is the tool list's order).
    public var servers: [ServerSpec]
    public var tools: PatternScope
    /// Which resources (by URI as the agent sees it) the agent may list and read; none unless allowed.
    public var resources: PatternScope
    /// Which prompts (`<server>__<prompt>`) the agent may list and get; none unless allowed.
    public var prompts: PatternScope
    public var serverRequests: ServerRequestPolicy
    public var audit: AuditSettings
    public var timeouts: Timeouts
    public var transport = TransportLimits()
    /// The file the persona was read from.
    public var sourcePath: String?
    /// `sha256:` of the persona file's bytes, recorded in every session's first audit record.
    public var digest: String
    /// Argument rules, limits, behaviour, flows and annotation overrides (see CallPolicy.swift).
    public var callPolicy = CallPolicy()
    /// How calls that a rule says to `ask` about are put to a person (see Approval/ApprovalQuestion.swift).
    public var approval = ApprovalSettings()
    /// Every file this persona was read from: the persona itself first, then each file it extends, nearest first.
    /// Hot reload watches them all.
    public var sourceFiles: [String] = []
    /// The classes of data the job may touch and how servers, tools and resources are labelled; nil when the
    /// persona does not use data classes.
    public var dataClasses: DataClassPolicy?
    /// Masking of what flows back and the outbound secrets check (see Masking/MaskingPolicy.swift); nil when the
    /// persona has neither `masking` nor `secrets`.
    public var masking: MaskingPolicy?
}

/// One downstream MCP server, in the shape of an `mcpServers` entry.
public struct ServerSpec: Sendable, Equatable {
    public var name: String
    public var command: ChildCommand

    public init(name: String, command: ChildCommand) {
        self.name = name
        self.command = command
    }
}

/// Allow and deny patterns over what the agent sees: tool names, prompt names or resource URIs.
public struct PatternScope: Sendable {
    /// The persona section the patterns come from (`tools`, `resources`, `prompts`), used in rule names.
    public var section: String
    public var allow: [Glob]
    public var deny: [Glob]

    public init(section: String, allow: [Glob], deny: [Glob]) {
        self.section = section
        self.allow = allow
        self.deny = deny
    }
}

/// Which requests downstream servers may send to the agent through the shim.
public struct ServerRequestPolicy: Sendable {
    /// `sampling/createMessage`: a server using the agent's model. Off unless the persona allows it.
    public var sampling = false
    /// `elicitation/create`: a server asking the person a question.
    public var elicitation = true
    /// `roots/list`: a server asking which folders the agent works in.
    public var roots = true

    public init() {}
}

public struct AuditSettings: Sendable {
    /// The audit file; nil means the default under the user's state directory.
    public var path: String?
    /// Whether every record is flushed to disk (fsync) before the call it records goes ahead.
    public var fsync: Bool
}

/// The longest messages the shim accepts. A longer one is discarded as it streams in (memory stays bounded), and
/// whoever it answered or asked gets an error at once.
public struct TransportLimits: Sendable {
    public var maxAgentMessageBytes = 16 * 1024 * 1024
    /// A tool result can legitimately be large.
    public var maxServerMessageBytes = 256 * 1024 * 1024
}

public struct Timeouts: Sendable {
    /// How long a downstream server may take to answer `initialize`.
    public var initializeSeconds: Double = 30
    /// How long a forwarded request may take before the agent gets an error and the server a cancellation.
    public var callSeconds: Double = 300
}

/// A day in the calendar, written `YYYY-MM-DD`, that ends at midnight UTC.
public struct CalendarDate: Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= days[month - 1] else { return nil }
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// The first instant after this day (UTC): the persona is still valid up to, not including, this instant.
    public var endOfDay: Instant {
        Instant(secondsSince1970: Double(Self.daysSince1970(year, month, day) + 1) * 86_400)
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysSince1970(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}
