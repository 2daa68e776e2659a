/// One match: which detector, and where (UTF-8 byte offsets into the scanned text). A scan returns matches sorted
/// by start, non-overlapping (on overlap the longer wins, then the detector listed first).
public struct Detection: Sendable, Equatable {
    public var detector: String
    public var range: Range<Int>

    public init(detector: String, range: Range<Int>) {
        self.detector = detector
        self.range = range
    }
}

/// A persona's own pattern: a name and a POSIX extended regular expression (see `PosixRegex` for the dialect).
public struct CustomPattern: Sendable, Equatable {
    public var name: String
    public var pattern: String

    public init(name: String, pattern: String) {
        self.name = name
        self.pattern = pattern
    }
}

/// Why a detector set cannot be built, as a sentence a persona's author can act on.
public struct DetectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }

    static func unknown(_ name: String) -> DetectorError {
        DetectorError(
            "There is no masking detector named \"\(name)\"; the built-in detectors are "
                + BuiltInDetector.allCases.map(\.name).joined(separator: ", ")
                + ", and a persona's own patterns need a name and a pattern.")
    }

    static func badPattern(_ pattern: CustomPattern, _ reason: String) -> DetectorError {
        DetectorError(
            "The masking pattern \"\(pattern.name)\" does not compile: \(reason). Write it as a POSIX extended "
                + "regular expression (no \\d, \\w, look-around or back-references; use [0-9] and [[:alnum:]_]).")
    }

    static func badName(_ pattern: CustomPattern, _ reason: String) -> DetectorError {
        DetectorError("The masking pattern name \"\(pattern.name)\" cannot be used: \(reason).")
    }
}
