import Platform

/// What the shell watches for the operator: the kill switch's folder and the folders of the persona's files
/// (inotify, through `OS`), so that a kill takes effect, and an edited persona is reloaded, while the session runs.
final class OperatorWatch {
    /// Watches the kill switch's folder; -1 when it could not be watched (then it is read every `backstop`).
    var killFD: Int32 = -1
    /// Watches the folders of every file the persona was read from; -1 when reload is off or unavailable.
    var personaFD: Int32 = -1
    /// When the switch is read again whatever the watch says: a replaced folder loses its watch.
    var killCheckAt: UInt64?
    /// When a change to the persona's folders is looked at: once they have been quiet for `settle` (editors write
    /// in several steps), and at the latest `settleAtMost` after the first change.
    var reloadAt: UInt64?
    var firstChangeAt: UInt64?
    var watchedFolders: Set<String> = []
    /// The digest of the last version that failed to load, so that one broken edit is reported once.
    var rejectedDigest: String?

    static let backstop: UInt64 = 5_000_000_000
    static let settle: UInt64 = 200_000_000
    static let settleAtMost: UInt64 = 1_000_000_000

    deinit {
        if killFD >= 0 { close(killFD) }
        if personaFD >= 0 { close(personaFD) }
    }
}

/// Where a running shim reads its persona again when the files change.
public struct PersonaReloadSource: Sendable {
    public var path: String
    public var extraServers: [ServerSpec]
    public var serversSource: String?

    public init(path: String, extraServers: [ServerSpec], serversSource: String?) {
        self.path = path
        self.extraServers = extraServers
        self.serversSource = serversSource
    }
}

extension ShimSession {
    /// Reads the kill switch once and starts watching it and the persona's files.
    func startOperatorWatch() {
        if let user = configuration.killDirectories.first {
            // The user's folder is made so it can be watched; the machine's is an administrator's to make, and is
            // watched when it exists (its appearing is seen within `backstop`).
            _ = Files.createDirectories(user, mode: 0o700)
            let fd = OS.openFolderWatch()
            if fd >= 0, OS.watchFolder(fd, user) == 0 {
                operatorWatch.killFD = fd
            } else {
                if fd >= 0 { close(fd) }
                logger.warning(
                    "cannot watch the kill switch folder \(user) (\(String(cString: strerror(errno)))); it is read every \(OperatorWatch.backstop / 1_000_000_000) seconds instead"
                )
            }
            checkKillSwitch()
        }
        if configuration.reloadSource != nil {
            operatorWatch.personaFD = OS.openFolderWatch()
            watchPersonaFolders()
        }
    }

    /// The descriptors the loop polls for the operator, before the agent's: a change is seen before a call
    /// read in the same turn.
    func watchOperator(_ watch: (Int32, Int32, PollSource) -> Void) {
        if operatorWatch.killFD >= 0 { watch(operatorWatch.killFD, POLLIN, .killSwitch) }
        if operatorWatch.personaFD >= 0 { watch(operatorWatch.personaFD, POLLIN, .personaFiles) }
    }

    var operatorDeadline: UInt64? {
        [operatorWatch.killCheckAt, operatorWatch.reloadAt].compactMap { $0 }.min()
    }

    func fireOperatorTimers() {
        let now = core.now
        if let at = operatorWatch.killCheckAt, at <= now { checkKillSwitch() }
        if let at = operatorWatch.reloadAt, at <= now {
            operatorWatch.reloadAt = nil
            operatorWatch.firstChangeAt = nil
            reloadPersona()
        }
    }

    /// Reads the switch and tells the core when it changed. Called when its folder changes, before each read of
    /// the agent's input (a call the agent wrote after `kill` returned is then always refused: one read of an
    /// empty queue), and every `backstop`.
    func checkKillSwitch() {
        let directories = configuration.killDirectories
        guard !directories.isEmpty else { return }
        if operatorWatch.killFD >= 0 {
            guard
                OS.drainFolderWatch(operatorWatch.killFD) != 0
                    || operatorWatch.killCheckAt.map({ $0 <= core.now }) ?? true
            else { return }
            // A folder may have appeared or been replaced since: watching it again is harmless when it was not.
            for directory in directories { _ = OS.watchFolder(operatorWatch.killFD, directory) }
        }
        operatorWatch.killCheckAt = monotonicNow() + OperatorWatch.backstop
        core.now = monotonicNow()
        core.killSwitchChanged(KillSwitch.read(directories: directories, persona: core.persona.name))
    }

    /// Something changed in a folder holding one of the persona's files: look once the writes settle.
    func personaFilesChanged() {
        _ = OS.drainFolderWatch(operatorWatch.personaFD)
        let now = monotonicNow()
        let first = operatorWatch.firstChangeAt ?? now
        operatorWatch.firstChangeAt = first
        operatorWatch.reloadAt = min(now + OperatorWatch.settle, first + OperatorWatch.settleAtMost)
    }

    private func watchPersonaFolders() {
        guard operatorWatch.personaFD >= 0 else { return }
        // A file reached through a symbolic link changes where the link points, so both folders are watched.
        let folders = core.persona.sourceFiles.flatMap { file -> [String] in
            var folders = [Paths.directory(of: PersonaLoader.absolute(file))]
            if let resolved = realpath(file, nil) {
                folders.append(Paths.directory(of: String(cString: resolved)))
                free(resolved)
            }
            return folders
        }
        for folder in folders {
            guard !operatorWatch.watchedFolders.contains(folder) else { continue }
            if OS.watchFolder(operatorWatch.personaFD, folder) == 0 {
                operatorWatch.watchedFolders.insert(folder)
            } else {
                logger.warning(
                    "cannot watch \(folder) (\(String(cString: strerror(errno)))); changes to the persona files there will not be reloaded"
                )
            }
        }
    }

    /// Loads the persona again; a valid new version takes effect for the next request, an invalid one is refused
    /// (logged and audited) and the version in force stays.
    func reloadPersona() {
        guard let source = configuration.reloadSource else { return }
        let current = core.persona
        let digest = PersonaInheritance.digest(of: current.sourceFiles)
        guard digest != current.digest, digest != operatorWatch.rejectedDigest else { return }
        core.now = monotonicNow()
        let result = PersonaLoader.load(
            path: source.path, extraServers: source.extraServers, serversSource: source.serversSource)
        var problems = result.diagnostics.filter { $0.severity == .error }.map(\.description)
        if let new = result.persona, new.name != current.name {
            problems.append(
                "\(source.path): error: the persona's name changed from \"\(current.name)\" to \"\(new.name)\"; a running session keeps its name, so start a new session to use it"
            )
        }
        guard let new = result.persona, problems.isEmpty else {
            operatorWatch.rejectedDigest = digest
            core.reloadRejected(newDigest: digest, reason: problems.joined(separator: "; "))
            return
        }
        operatorWatch.rejectedDigest = nil
        if new.audit.path != current.audit.path || new.audit.fsync != current.audit.fsync
            || new.transport.maxAgentMessageBytes != current.transport.maxAgentMessageBytes
            || new.transport.maxServerMessageBytes != current.transport.maxServerMessageBytes
        {
            logger.warning(
                "the reloaded persona changes \"audit\" or \"transport\", which apply from the next session; this one keeps its own"
            )
        }
        core.reload(to: new)
        outOfBand?.settings = new.approval
        while processes.count < core.servers.count { processes.append(nil) }
        watchPersonaFolders()
    }
}
