import Platform

/// What a path resolver needs to know about one path, without following a final symbolic link.
public enum FileSystemEntry: Sendable, Equatable {
    case missing
    case directory
    case file
    case symlink(target: String)
    /// Anything else that stops resolution (permission denied, a loop the kernel reports): the path is refused.
    case unreadable
}

/// The one file-system question path rules ask, behind a protocol so tests can use a fake tree as well as a
/// real directory with real symbolic links.
public protocol FileSystemView: Sendable {
    func entry(at path: String) -> FileSystemEntry
}

/// The real file system, through `lstat` and `readlink`.
public struct LocalFileSystem: FileSystemView {
    public init() {}

    public func entry(at path: String) -> FileSystemEntry {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            return errno == ENOENT ? .missing : .unreadable
        }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(path, &buffer, buffer.count - 1)
            guard length >= 0 else { return .unreadable }
            return .symlink(target: String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        default: return .file
        }
    }
}

/// Turns a path argument into the absolute, symlink-free path a server would open.
///
/// Accepts absolute and relative paths (relative to `workingDirectory`, the server's), `~` and `~/…` (from
/// `home`), and `file://` URLs (empty or `localhost` host, percent-decoded). Refuses NUL bytes and backslashes.
/// Symbolic links are followed component by component, so a `..` after a link climbs from the link's target, as
/// the kernel does; once a component does not exist, the rest is taken as written (with `.` and `..` resolved
/// by text), which is where a new file would be created.
public struct PathResolver: Sendable {
    public let fileSystem: any FileSystemView
    public let home: String
    public let workingDirectory: String

    /// Links followed before the path is refused as a loop, as the kernel's own limit.
    static let maximumLinks = 40

    public init(fileSystem: any FileSystemView = LocalFileSystem(), home: String, workingDirectory: String) {
        self.fileSystem = fileSystem
        self.home = home
        self.workingDirectory = workingDirectory
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty, nulByte, backslash, otherHome, badURL(String), notADirectory(String), linkLoop(String)
        case unreadable(String)

        public var description: String {
            switch self {
            case .empty: "the path is empty"
            case .nulByte: "the path contains a NUL byte"
            case .backslash: "the path contains a backslash, which servers read differently; use \"/\""
            case .otherHome:
                "paths starting with \"~name\" are read differently by different servers; write the full path"
            case .badURL(let why): "the file URL cannot be read: \(why)"
            case .notADirectory(let path): "\"\(path)\" is not a folder, so the path cannot be followed"
            case .linkLoop(let path): "too many symbolic links while resolving \"\(path)\""
            case .unreadable(let path): "\"\(path)\" cannot be examined"
            }
        }
    }

    /// The absolute path as written, before symbolic links: `~`, URLs, relative paths, `.`, `..`, `//` resolved.
    public func lexicalPath(_ text: String) throws(Failure) -> String {
        Paths.standardize(try absoluteText(text))
    }

    /// The path made absolute with `.` and `..` still in it, so links before a `..` can be followed first.
    func absoluteText(_ text: String) throws(Failure) -> String {
        guard !text.isEmpty else { throw .empty }
        guard !text.utf8.contains(0) else { throw .nulByte }
        guard !text.utf8.contains(UInt8(ascii: "\\")) else { throw .backslash }
        if text.hasPrefix("file:") {
            let path = try Self.fileURLPath(text)
            guard !path.utf8.contains(0) else { throw .nulByte }
            guard !path.utf8.contains(UInt8(ascii: "\\")) else { throw .backslash }
            return path
        }
        if text == "~" || text.hasPrefix("~/") { return home + "/" + text.dropFirst() }
        // `~name` is another user's home to a shell and a relative path to the kernel; neither guess is safe.
        if text.hasPrefix("~") { throw .otherHome }
        return text.hasPrefix("/") ? text : workingDirectory + "/" + text
    }

    /// The path with every existing symbolic link resolved.
    public func resolve(_ text: String) throws(Failure) -> String {
        // Components still to walk, last first so popping is cheap; `..` stays in until walked physically.
        var pending = Self.components(of: try absoluteText(text))
        pending.reverse()
        var resolved: [Substring] = []
        var links = 0
        // How many leading components of `resolved` are known to exist. A `..` that climbs back out of a missing
        // folder lands on existing ones again, whose links must be followed: a server that tidies
        // `missing/../link/x` by text would otherwise open what `link` points at.
        var existing = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                existing = min(existing, resolved.count)
                continue
            }
            resolved.append(component)
            guard existing == resolved.count - 1 else { continue }
            let current = "/" + resolved.joined(separator: "/")
            switch fileSystem.entry(at: current) {
            case .directory: existing += 1
            case .missing: continue
            case .unreadable: throw .unreadable(current)
            case .file:
                if pending.contains(where: { $0 != "." }) { throw .notADirectory(current) }
                existing += 1
            case .symlink(let target):
                links += 1
                guard links <= Self.maximumLinks else { throw .linkLoop(text) }
                resolved.removeLast()
                if target.hasPrefix("/") { resolved.removeAll() }
                existing = min(existing, resolved.count)
                pending.append(contentsOf: Self.components(of: target).reversed())
            }
        }
        return "/" + resolved.joined(separator: "/")
    }

    static func components(of path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// The path of a `file:` URL: `file:///p`, `file://localhost/p` or `file:/p`, percent-decoded.
    static func fileURLPath(_ text: String) throws(Failure) -> String {
        var rest = Substring(text.dropFirst("file:".count))
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            guard let slash = rest.firstIndex(of: "/") else { throw .badURL("it has no path") }
            let host = rest[..<slash].lowercased()
            guard host.isEmpty || host == "localhost" else {
                throw .badURL("it names another machine (\"\(host)\")")
            }
            rest = rest[slash...]
        }
        guard rest.hasPrefix("/") else { throw .badURL("its path is not absolute") }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        guard let decoded = percentDecode(rest) else { throw .badURL("it has a malformed %-escape") }
        return decoded
    }

    /// `%XX` escapes decoded; nil for a `%` not followed by two hex digits or bytes that are not UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.next().flatMap(JSONReader.hexValue),
                let low = utf8.next().flatMap(JSONReader.hexValue)
            else { return nil }
            bytes.append(UInt8(high << 4 | low))
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// Folders a path argument must be inside (`under`) or outside (`notUnder`), resolved when the persona loads.
public struct PathScope: Sendable {
    public let under: [String]
    public let notUnder: [String]
    let underComponents: [[Substring]]
    let notUnderComponents: [[Substring]]

    /// Folders are resolved with `resolver` (so `~/project` and a symlinked `/srv/app` mean what they point at).
    public init(under: [String], notUnder: [String], resolver: PathResolver) throws(PathResolver.Failure) {
        self.under = under
        self.notUnder = notUnder
        var underComponents: [[Substring]] = []
        for folder in under { underComponents.append(PathResolver.components(of: try resolver.resolve(folder))) }
        var notUnderComponents: [[Substring]] = []
        for folder in notUnder {
            // Both the folder as written and as resolved, so a link cannot be used to step around it.
            notUnderComponents.append(PathResolver.components(of: try resolver.lexicalPath(folder)))
            notUnderComponents.append(PathResolver.components(of: try resolver.resolve(folder)))
        }
        self.underComponents = underComponents
        self.notUnderComponents = notUnderComponents
    }

    /// Whether `path` is one of `folder`'s descendants or the folder itself, compared whole component by component.
    static func contains(_ folder: [Substring], _ path: [Substring]) -> Bool {
        path.count >= folder.count && zip(folder, path).allSatisfy { $0 == $1 }
    }

    /// nil when the resolved path is inside some `under` folder and inside no `notUnder` folder; otherwise why not.
    public func violation(resolvedPath: String) -> String? {
        let components = PathResolver.components(of: resolvedPath)
        if let index = notUnderComponents.firstIndex(where: { Self.contains($0, components) }) {
            return "\"\(resolvedPath)\" is inside \"\(notUnder[index / 2])\""
        }
        if !underComponents.isEmpty && !underComponents.contains(where: { Self.contains($0, components) }) {
            let folders = under.map { "\"\($0)\"" }.joined(separator: ", ")
            return "\"\(resolvedPath)\" is not inside \(folders)"
        }
        return nil
    }
}
