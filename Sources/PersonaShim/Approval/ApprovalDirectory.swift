import Platform

/// The per-user runtime folder where running shims publish their pending questions, one socket per session:
/// `$XDG_RUNTIME_DIR/persona-shim/`, or `/tmp/persona-shim-UID/` without it. It is created 0700 and used only if
/// it is a real folder (not a symbolic link) owned by this user that nobody else can enter: in `/tmp` another user
/// could have made it first.
public enum ApprovalDirectory {
    public static func path(environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return runtime.hasSuffix("/") ? runtime + "persona-shim" : runtime + "/persona-shim"
        }
        return "/tmp/persona-shim-\(geteuid())"
    }

    /// Creates the folder if needed and checks it; returns a sentence saying what is wrong and what to do.
    public static func prepare(_ path: String) -> Result<Void, ApprovalSetupError> {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            return .failure(
                .init(
                    "cannot create the approvals folder \(path) (\(String(cString: strerror(errno)))). Check that its parent exists and is writable."
                ))
        }
        return check(path)
    }

    /// Checks an existing folder: a folder, not a link, owned by this user, closed to everyone else.
    public static func check(_ path: String) -> Result<Void, ApprovalSetupError> {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return .failure(.init("the approvals folder \(path) does not exist (\(String(cString: strerror(errno))))."))
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return .failure(
                .init(
                    "the approvals folder \(path) is not a folder (a link or a file is there). Remove it and try again."
                ))
        }
        guard info.st_uid == geteuid() else {
            return .failure(
                .init(
                    "the approvals folder \(path) belongs to uid \(info.st_uid), not to you (uid \(geteuid())); someone else may have made it to intercept approvals. Remove it, or set XDG_RUNTIME_DIR."
                ))
        }
        guard info.st_mode & 0o077 == 0 else {
            return .failure(
                .init(
                    "the approvals folder \(path) can be entered by other users (mode \(String(info.st_mode & 0o777, radix: 8))). Run chmod 700 \(path)."
                ))
        }
        return .success(())
    }

    /// The socket of the session with this pid.
    public static func socketPath(in directory: String, pid: pid_t) -> String {
        "\(directory)/shim-\(pid).sock"
    }

    /// The sockets in the folder, oldest names first.
    public static func sockets(in directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var paths: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("shim-") && name.hasSuffix(".sock") { paths.append("\(directory)/\(name)") }
        }
        return paths.sorted()
    }
}

/// Why out-of-band approval cannot be set up, as a sentence.
public struct ApprovalSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
