#if canImport(Glibc)
    import Glibc
#endif

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

    /// One `write` per line so lines from the shim and its children never interleave mid-line.
    static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if result < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return
                }
                offset += result
            }
        }
    }
}
