import Platform

/// The operator's kill switch, kept as files in two folders every shim watches: the user's,
/// `$XDG_STATE_HOME/persona-shim/kill/` (else `~/.local/state/persona-shim/kill/`), and the machine's,
/// `/var/lib/persona-shim/kill/` (an administrator's: it stops the shims of every user). A file named after a
/// persona stops that persona; a file named `@all` (no persona can be named so) stops every persona. A file's text
/// says who stopped it, when and why. Reading the switch costs four `stat` calls, made only when a folder changes.
public enum KillSwitch {
    /// The file that stops every persona.
    public static let everyPersona = "@all"

    public static func defaultDirectory(_ environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/persona-shim/kill" }
        return Paths.home(environment) + "/.local/state/persona-shim/kill"
    }

    /// The machine's folder; `PERSONA_SHIM_MACHINE_KILL_DIR` names another (tests, or a machine that keeps state
    /// elsewhere).
    public static func machineDirectory(_ environment: [String: String]) -> String {
        environment["PERSONA_SHIM_MACHINE_KILL_DIR"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? "/var/lib/persona-shim/kill"
    }

    /// The switch as it stands for `persona` in the first of `directories` that has one on; nil when off.
    static func read(directories: [String], persona: String) -> KillSwitchState? {
        for (index, directory) in directories.enumerated() {
            if let state = read(directory: directory, persona: persona, machine: index > 0) { return state }
        }
        return nil
    }

    /// The switch as it stands for `persona`; nil when off. A state that cannot be read counts as on.
    static func read(directory: String, persona: String, machine: Bool = false) -> KillSwitchState? {
        let flag = machine ? " --machine" : ""
        for name in [persona, everyPersona] {
            let path = directory + "/" + name
            var info = stat()
            if stat(path, &info) == 0 {
                let note = Files.read(path).map(Self.note) ?? ""
                let who = name == everyPersona ? "every persona" : "this persona"
                return KillSwitchState(
                    scope: name == everyPersona ? "all" : "persona", file: path,
                    reason: note.isEmpty ? "\(who) was stopped" : note,
                    lift: "an operator runs 'persona-shim unkill\(flag) \(name == everyPersona ? "--all" : name)'")
            }
            let error = errno
            // Nothing there, or a file where a folder of the path should be: no switch can be set, so it is off
            // (and `kill` says it cannot set one). Anything else cannot be judged.
            if error == ENOENT || error == ENOTDIR { continue }
            return KillSwitchState(
                scope: "unreadable", file: path,
                reason:
                    "the kill switch \(path) could not be read (\(String(cString: strerror(error)))), so it counts as on",
                lift: "the folder \(directory) can be read again")
        }
        return nil
    }

    /// Stops `persona` (nil: every persona), saying who, when and why. Returns an error sentence, or nil.
    /// `shared`: the machine's folder, which every user's shims must be able to read.
    static func engage(directory: String, persona: String?, reason: String?, shared: Bool = false) -> String? {
        if let problem = Files.createDirectories(directory, mode: shared ? 0o755 : 0o700) {
            return "cannot create the kill switch folder \(directory): \(problem)"
        }
        let name = persona ?? everyPersona
        var text = "stopped by \(AuditLog.currentUser()) at \(AuditLog.timestamp())"
        if let reason, !reason.isEmpty { text += ": " + reason }
        // Written aside and renamed, so a shim never reads half a note.
        let temporary = directory + "/.\(name).\(getpid())"
        guard Files.write(Array((text + "\n").utf8), to: temporary, mode: shared ? 0o644 : 0o600) else {
            return "cannot write \(temporary): \(String(cString: strerror(errno)))"
        }
        guard rename(temporary, directory + "/" + name) == 0 else {
            let problem = String(cString: strerror(errno))
            unlink(temporary)
            return "cannot write \(directory)/\(name): \(problem)"
        }
        return nil
    }

    /// Lifts the switch of `persona` (nil: the one for every persona). Whether it was on, or an error sentence.
    static func lift(directory: String, persona: String?) -> Result<Bool, KillSwitchError> {
        let path = directory + "/" + (persona ?? everyPersona)
        if unlink(path) == 0 { return .success(true) }
        if errno == ENOENT { return .success(false) }
        return .failure(KillSwitchError(message: "cannot remove \(path): \(String(cString: strerror(errno)))"))
    }

    /// Every switch that is on: the persona's name (or `@all`) and its note; nil if the folder cannot be read.
    static func engaged(directory: String) -> [(name: String, note: String)]? {
        guard let folder = opendir(directory) else { return errno == ENOENT ? [] : nil }
        defer { closedir(folder) }
        var found: [(name: String, note: String)] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard !name.hasPrefix(".") else { continue }
            found.append((name, Files.read(directory + "/" + name).map(Self.note) ?? ""))
        }
        return found.sorted { $0.name < $1.name }
    }

    /// A note as one line of printable text, at most 500 characters: it ends up in the agent's refusal.
    static func note(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(2000), as: UTF8.self)
        let printable = text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        return String(String(printable).trimmingWhitespace.prefix(500))
    }
}

struct KillSwitchError: Error {
    let message: String
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<max(start, end)]
    }
}
