import Platform

/// Writes whole lines to stderr; stdout belongs to the protocol.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var level: Level

    public init(level: Level = .info) {
        self.level = level
    }

    /// The level named by `PERSONA_SHIM_LOG` (debug, info, warning, error), else info.
    public static func fromEnvironment(_ environment: [String: String]) -> Logger {
        switch environment["PERSONA_SHIM_LOG"]?.lowercased() {
        case "debug": Logger(level: .debug)
        case "warning", "warn": Logger(level: .warning)
        case "error": Logger(level: .error)
        default: Logger(level: .info)
        }
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard level >= self.level else { return }
        let prefix =
            switch level {
            case .debug: "persona-shim: debug: "
            case .info: "persona-shim: "
            case .warning: "persona-shim: warning: "
            case .error: "persona-shim: error: "
            }
        Self.writeLine(prefix + message())
    }

    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }

    /// Queues one whole line for stderr, so lines from the shim and its servers never interleave mid-line
    /// and a stalled stderr never stalls the shim.
    static func writeLine(_ line: String) {
        StandardErrorSink.shared.write(line)
    }
}
