import Platform

/// `persona-shim approve ID` and `persona-shim deny ID`.
///
/// `approve` talks only to the person's terminal (`/dev/tty`), never to its stdin or stdout: it shows the whole
/// question there and a one-time code the shim made, and approves only if that code is typed back at that
/// terminal. Piping `yes` into it does nothing, and a process without a terminal is refused before anything is
/// asked. The shim checks the approving process itself as well (see `ApproverCheck`).
enum ApproveCommand {
    static func run(_ arguments: [String], approve: Bool) -> Int32 {
        let name = approve ? "approve" : "deny"
        if arguments.contains("-h") || arguments.contains("--help") {
            print(approve ? HelpText.approve : HelpText.deny)
            return PersonaShimCLI.ExitCode.success
        }
        guard arguments.count == 1, let id = arguments.first, !id.hasPrefix("-") else {
            return PersonaShimCLI.usageError(
                "\(name) takes one question id (see 'persona-shim approvals')", command: name)
        }
        var terminal: Int32 = -1
        if approve {
            // The code it is shown lives in its memory: no other process of the user may trace it or read it.
            OS.forbidTracing()
            terminal = OS.openControllingTerminal()
            guard terminal >= 0 else {
                Logger.writeLine(
                    "persona-shim: error: persona-shim approve must be run by a person at a terminal, and this process has no controlling terminal (\(String(cString: strerror(errno)))). Nothing was approved. Run it yourself in a terminal window; an agent's tools cannot approve its calls."
                )
                return PersonaShimCLI.ExitCode.failure
            }
        }
        defer { if terminal >= 0 { FD.close(terminal) } }
        let directory = ApprovalDirectory.path(environment: ProcessEnvironment.current())
        if case .failure(let error) = ApprovalDirectory.check(directory) {
            return fail(Files.exists(directory) ? "\(error)" : "no persona-shim of yours is waiting for an approval.")
        }
        let matches = ApprovalClient.pendingQuestions(directory: directory).filter {
            $0.question.id == id || (id.count >= 8 && $0.question.id.hasPrefix(id))
        }
        guard matches.count == 1, let found = matches.first else {
            return fail(
                matches.isEmpty
                    ? "no pending question \(id) (it was answered, withdrawn or timed out; 'persona-shim approvals' lists those waiting)."
                    : "\(id) names \(matches.count) questions; give more of the id.")
        }
        guard approve else {
            return send(.deny(id: found.question.id), to: found.socket, done: "Denied: the call was refused.")
        }
        return confirm(found, at: terminal)
    }

    /// Shows the question and the code on the terminal, and sends the approval once the code is typed back.
    private static func confirm(_ found: ApprovalClient.Found, at terminal: Int32) -> Int32 {
        let code: String
        switch ApprovalClient.exchange(found.socket, .challenge(id: found.question.id)) {
        case .failure(let error):
            return fail("the shim did not answer (\(String(cString: strerror(error.errno)))); nothing was approved.")
        case .success(let reply):
            guard let shown = reply["code"]?.stringValue else { return refused(reply) }
            code = shown
        }
        say(
            ApprovalPresentation.full(found.question)
                + "\n\nTo approve exactly this call, type this code and press Enter (anything else cancels):\n\n    \(code)\n\n> ",
            to: terminal)
        guard let typed = readLine(from: terminal), ApprovalProtocol.sameCode(code, typed) else {
            say("The code did not match: nothing was approved. The call is still waiting.\n", to: terminal)
            return PersonaShimCLI.ExitCode.failure
        }
        let status = send(
            .approve(id: found.question.id, code: typed), to: found.socket,
            done: "Approved: the call goes ahead, exactly as shown.")
        return status
    }

    private static func send(_ request: ApprovalProtocol.Request, to socket: String, done: String) -> Int32 {
        switch ApprovalClient.exchange(socket, request) {
        case .failure(let error):
            return fail("the shim did not answer (\(String(cString: strerror(error.errno)))); nothing was sent.")
        case .success(let reply):
            guard reply["answer"] != nil else { return refused(reply) }
            print(done)
            return PersonaShimCLI.ExitCode.success
        }
    }

    private static func refused(_ reply: JSONValue) -> Int32 {
        if let refusal = reply["refused"]?.stringValue {
            return fail("the shim refused: \(refusal). Nothing was approved; the refusal is in the audit trail.")
        }
        return fail(reply["error"]?.stringValue ?? "the shim gave an answer this version does not understand")
    }

    private static func fail(_ sentence: String) -> Int32 {
        Logger.writeLine("persona-shim: error: \(sentence)")
        return PersonaShimCLI.ExitCode.failure
    }

    private static func say(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Platform.write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            written += count
        }
    }

    /// One line typed at the terminal (at most 256 bytes), or nil at end of input.
    private static func readLine(from fd: Int32) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 256 {
            let count = Platform.read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}
