/// Starts a server's process: resolves its command on the PATH it will see, builds its environment, spawns it.
struct ServerLauncher {
    let selfExecutable: String
    let environment: [String: String]
    let lineLimit: Int

    enum Outcome {
        case started(ServerProcess, command: String)
        /// `transient`: the machine was short of processes, memory or descriptors; a later try may work.
        case failed(reason: String, transient: Bool = false)
    }

    func launch(_ spec: ServerSpec, index: Int, groups: ServerGroups) -> Outcome {
        var command = spec.command
        if command.executable == "persona-shim" { command.executable = selfExecutable }
        let environment = ChildEnvironment.build(parent: environment, declared: command.environment)
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard
            let resolved = ExecutableResolver.resolve(
                command.executable, searchPath: searchPath, workingDirectory: command.workingDirectory)
        else {
            return .failed(
                reason:
                    "could not find the command \"\(command.executable)\" (searched PATH \(searchPath)); check the server's \"command\""
            )
        }
        command.executable = resolved
        do {
            let spawned = try ChildSpawner.spawn(command, environment: environment)
            groups.started(spawned.pid)
            let process = ServerProcess(
                server: index, name: spec.name, spawned: spawned, lineLimit: lineLimit, groups: groups)
            return .started(process, command: resolved)
        } catch {
            return .failed(reason: error.description, transient: error.isTransient)
        }
    }
}
