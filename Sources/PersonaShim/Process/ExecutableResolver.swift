import Platform

/// Finds the file a command names, the way `execvp` would.
public enum ExecutableResolver {
    /// Resolves a command: contains "/" → used as is (relative paths resolved against `workingDirectory` if given,
    /// else the current directory); otherwise searched on `searchPath` (colon-separated).
    ///
    /// Returns nil if not found or not executable.
    public static func resolve(_ command: String, searchPath: String, workingDirectory: String?) -> String? {
        if command.contains("/") {
            let path = absolute(command, workingDirectory: workingDirectory)
            return isExecutableFile(path) ? path : nil
        }
        if case .found(let path) = search(command, searchPath: searchPath, workingDirectory: workingDirectory) {
            return path
        }
        return nil
    }

    enum SearchResult: Equatable {
        case found(String)
        /// ENOENT when nothing matched, EACCES when a match was not executable (as execvp reports).
        case failed(Int32)
    }

    /// Looks a bare name up on `searchPath`, keeping the reason for a failure.
    static func search(_ name: String, searchPath: String, workingDirectory: String?) -> SearchResult {
        guard !name.isEmpty else { return .failed(ENOENT) }
        var sawUnexecutable = false
        // Empty entries traditionally mean the current directory; a server config that ends up running whatever is
        // in the working directory is a surprise nobody wants, so they are skipped.
        for directory in searchPath.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = absolute(
                directory.hasSuffix("/") ? "\(directory)\(name)" : "\(directory)/\(name)",
                workingDirectory: workingDirectory)
            if isExecutableFile(candidate) {
                return .found(candidate)
            }
            if isRegularFile(candidate) {
                sawUnexecutable = true
            }
        }
        return .failed(sawUnexecutable ? EACCES : ENOENT)
    }

    /// `path` if absolute, else joined to `workingDirectory` (itself made absolute) or the current directory.
    static func absolute(_ path: String, workingDirectory: String?) -> String {
        if path.hasPrefix("/") {
            return path
        }
        let base = workingDirectory.map { absolute($0, workingDirectory: nil) } ?? currentDirectory()
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    static func currentDirectory() -> String {
        guard let buffer = getcwd(nil, 0) else { return "." }
        defer { free(buffer) }
        return String(cString: buffer)
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func isExecutableFile(_ path: String) -> Bool {
        isRegularFile(path) && access(path, X_OK) == 0
    }

    static func isUsableDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && access(path, X_OK) == 0
    }
}
