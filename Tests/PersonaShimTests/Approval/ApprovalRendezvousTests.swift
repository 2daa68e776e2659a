import Glibc
import Platform
import Testing

@testable import PersonaShim

/// The rendezvous socket and its protocol, spoken to over a real socket by this process.
@Suite(.serialized) struct ApprovalRendezvousTests {
    /// This process as the agent: every request it makes to approve is refused (it is inside the guarded tree,
    /// and may have no terminal either).
    static func selfGuarded() -> ApproverCheck {
        ApproverCheck(uid: geteuid(), guardedRoots: ApproverCheck.agentRoots())
    }

    /// Connects, sends `bytes`, serves until the reply is complete, and returns it (nil if the shim dropped it).
    func ask(_ rendezvous: ApprovalRendezvous, _ bytes: [UInt8]) throws -> JSONValue? {
        let fd = try OS.connectLocal(rendezvous.path).get()
        defer { FD.close(fd) }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = try? FD.setNonBlocking(fd)
        var reply: [UInt8] = []
        var closed = false
        serve(rendezvous) {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { reply += chunk[..<count] }
            if count == 0 { closed = true }
            return closed
        }
        guard let end = reply.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return try JSONValue(parsing: reply[..<end])
    }

    func request(_ request: ApprovalProtocol.Request) -> [UInt8] {
        JSONWriter.encode(request.json) + [UInt8(ascii: "\n")]
    }

    @Test func folderIsMade0700AndRefusedWhenOthersCanEnterOrItIsALink() throws {
        let folder = ApprovalFolder()
        try ApprovalDirectory.prepare(folder.directory).get()
        var info = stat()
        #expect(lstat(folder.directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
        chmod(folder.directory, 0o755)
        guard case .failure(let open) = ApprovalDirectory.check(folder.directory) else {
            Issue.record("a folder others can enter was accepted")
            return
        }
        #expect(open.description.contains("chmod 700"))
        chmod(folder.directory, 0o700)
        let link = folder.root + "/link"
        symlink(folder.directory, link)
        defer { unlink(link) }
        guard case .failure(let linked) = ApprovalDirectory.check(link) else {
            Issue.record("a symbolic link was accepted")
            return
        }
        #expect(linked.description.contains("not a folder"))
        #expect(ApprovalDirectory.path(environment: [:]) == "/tmp/persona-shim-\(geteuid())")
    }

    @Test func listsQuestionsAndRemovesTheSocketWhenClosed() throws {
        let folder = ApprovalFolder()
        let rendezvous = try ApprovalRendezvous.open(directory: folder.directory, check: Self.selfGuarded()).get()
        var info = stat()
        #expect(lstat(rendezvous.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let question = sampleQuestion()
        rendezvous.publish(question)
        let reply = try #require(try ask(rendezvous, request(.list)))
        let listed = try #require(reply["questions"]?.arrayValue)
        #expect(listed.count == 1)
        #expect(ApprovalQuestion(json: listed[0]) == question)
        rendezvous.close()
        #expect(access(rendezvous.path, F_OK) != 0)
    }

    /// A socket left by a shim that was killed (nobody listens) is removed by the next listing; a live one is kept.
    @Test func aStaleSocketIsRemovedByTheNextListing() throws {
        let folder = ApprovalFolder()
        try ApprovalDirectory.prepare(folder.directory).get()
        let stalePath = ApprovalDirectory.socketPath(in: folder.directory, pid: 999_999)
        let stale = try OS.listenLocal(stalePath).get()
        FD.close(stale)
        #expect(access(stalePath, F_OK) == 0)
        #expect(ApprovalClient.pendingQuestions(directory: folder.directory).isEmpty)
        #expect(access(stalePath, F_OK) != 0)
    }

    @Test func malformedAndUnknownRequestsGetSentences() throws {
        let folder = ApprovalFolder()
        let rendezvous = try ApprovalRendezvous.open(directory: folder.directory, check: Self.selfGuarded()).get()
        defer { rendezvous.close() }
        let notJSON = try #require(try ask(rendezvous, Array("hello\n".utf8)))
        #expect(notJSON["error"]?.stringValue == "the request is not JSON")
        let wrongShape = try #require(try ask(rendezvous, Array(#"{"request":"approve","id":"x"}"#.utf8) + [10]))
        #expect(wrongShape["error"]?.stringValue?.contains("list, challenge, approve or deny") == true)
        let unknown = try #require(try ask(rendezvous, request(.deny(id: "nope"))))
        #expect(unknown["error"]?.stringValue?.contains("no pending question nope") == true)
        #expect(rendezvous.takeAnswers().isEmpty)
    }

    @Test func anOversizedRequestIsCutOff() throws {
        let folder = ApprovalFolder()
        let rendezvous = try ApprovalRendezvous.open(directory: folder.directory, check: Self.selfGuarded()).get()
        defer { rendezvous.close() }
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: ApprovalRendezvous.requestLimit + 8192)
        let fd = try OS.connectLocal(rendezvous.path).get()
        defer { FD.close(fd) }
        try FD.setNonBlocking(fd)
        var sent = 0
        var reply: [UInt8] = []
        serve(rendezvous) {
            if sent < huge.count {
                let count = huge.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
                if count > 0 { sent += count }
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { reply += chunk[..<count] }
            return reply.contains(10)
        }
        let text = String(decoding: reply, as: UTF8.self)
        #expect(text.contains("longer than \(ApprovalRendezvous.requestLimit) bytes"))
    }

    @Test func aStalledPeerIsDroppedAndOthersAreServedMeanwhile() throws {
        let folder = ApprovalFolder()
        let rendezvous = try ApprovalRendezvous.open(directory: folder.directory, check: Self.selfGuarded()).get()
        defer { rendezvous.close() }
        rendezvous.publish(sampleQuestion())
        let stalled = try OS.connectLocal(rendezvous.path).get()
        defer { FD.close(stalled) }
        _ = Array(#"{"request":"li"#.utf8).withUnsafeBytes { write(stalled, $0.baseAddress, $0.count) }
        // Another client is answered while the first one sits on half a request.
        let reply = try #require(try ask(rendezvous, request(.list)))
        #expect(reply["questions"]?.arrayValue?.count == 1)
        rendezvous.expire(now: monotonicNow() + nanoseconds(ApprovalRendezvous.connectionSeconds + 1))
        #expect(rendezvous.pollRequests.count == 1)  // the listening socket alone
        var byte: UInt8 = 0
        #expect(read(stalled, &byte, 1) == 0)  // the shim hung up on it
    }

    /// This test process is inside the guarded tree: asking for a code, or approving, is refused and recorded; a
    /// denial goes through.
    @Test func aProcessInsideTheAgentsTreeCannotApproveButCanDeny() throws {
        let folder = ApprovalFolder()
        let rendezvous = try ApprovalRendezvous.open(directory: folder.directory, check: Self.selfGuarded()).get()
        defer { rendezvous.close() }
        let question = sampleQuestion()
        rendezvous.publish(question)
        let challenge = try #require(try ask(rendezvous, request(.challenge(id: question.id))))
        #expect(challenge["code"] == nil)
        #expect(challenge["refused"]?.stringValue != nil)
        let approve = try #require(try ask(rendezvous, request(.approve(id: question.id, code: "AAAA-AAAA"))))
        #expect(approve["refused"]?.stringValue != nil)
        let refusals = rendezvous.takeRefusals()
        #expect(refusals.count == 2)
        #expect(refusals.allSatisfy { $0.question == question.id && $0.pid == getpid() })
        #expect(refusals.allSatisfy { ["no-terminal", "inside-agent"].contains($0.refusal) })
        #expect(rendezvous.takeAnswers().isEmpty)
        let deny = try #require(try ask(rendezvous, request(.deny(id: question.id))))
        #expect(deny["answer"]?.stringValue == "denied")
        let answers = rendezvous.takeAnswers()
        #expect(answers.count == 1 && answers.first?.id == question.id)
        guard case .denied(let by, let how)? = answers.first?.answer else {
            Issue.record("not a denial: \(answers)")
            return
        }
        #expect(by == "terminal" && how.contains("pid \(getpid())"))
    }

    /// The approval path with the process checks passing (a made-up table for the peer): the code must come from
    /// the process that was shown it, once, and match.
    @Test func anApprovalNeedsTheCodeShownToThatVeryProcess() throws {
        let folder = ApprovalFolder()
        let rendezvous = try ApprovalRendezvous.open(
            directory: folder.directory, check: ApproverCheck(uid: 1000, guardedRoots: [])
        ).get()
        defer { rendezvous.close() }
        let person = ProcessStatus(pid: 500, parent: 1, processGroup: 500, session: 500, terminal: 34820, startTime: 9)
        let other = ProcessStatus(pid: 600, parent: 1, processGroup: 600, session: 600, terminal: 34821, startTime: 9)
        let table = [person.pid: person, other.pid: other]
        let question = sampleQuestion()
        rendezvous.publish(question)
        let code = try #require(
            rendezvous.answer(.challenge(id: question.id), pid: 500, uid: 1000, process: { table[$0] })["code"]?
                .stringValue)
        #expect(code.count == 9 && code.contains("-"))
        // Another process, even with a terminal, cannot use the code it was not shown.
        let stolen = rendezvous.answer(
            .approve(id: question.id, code: code), pid: 600, uid: 1000, process: { table[$0] })
        #expect(stolen["refused"]?.stringValue?.contains("shown no code") == true)
        // A wrong code uses the challenge up.
        let wrong = rendezvous.answer(
            .approve(id: question.id, code: "XXXX-XXXX"), pid: 500, uid: 1000, process: { table[$0] })
        #expect(wrong["refused"]?.stringValue?.contains("not the code shown") == true)
        let late = rendezvous.answer(.approve(id: question.id, code: code), pid: 500, uid: 1000, process: { table[$0] })
        #expect(late["refused"] != nil)
        // A fresh code, typed back (case and dash do not matter), approves once.
        let fresh = try #require(
            rendezvous.answer(.challenge(id: question.id), pid: 500, uid: 1000, process: { table[$0] })["code"]?
                .stringValue)
        let typed = fresh.lowercased().replacingOccurrences(of: "-", with: "")
        #expect(
            rendezvous.answer(.approve(id: question.id, code: typed), pid: 500, uid: 1000, process: { table[$0] })[
                "answer"] == "approved")
        #expect(
            rendezvous.answer(.approve(id: question.id, code: typed), pid: 500, uid: 1000, process: { table[$0] })[
                "error"] != nil)
        let answers = rendezvous.takeAnswers()
        #expect(answers.count == 1)
        #expect(
            answers.first?.answer
                == .approved(
                    by: "terminal",
                    how: "persona-shim approve on /dev/pts/4 (pid 500, uid 1000), the code shown typed back"))
        #expect(rendezvous.takeRefusals().map(\.refusal) == ["no-challenge", "wrong-code", "no-challenge"])
        // Another user is refused before anything else.
        #expect(rendezvous.answer(.list, pid: 500, uid: 0, process: { table[$0] })["error"] != nil)
    }

    @Test func questionJSONCarriesEveryFieldAndTheArgumentsAsJSON() throws {
        let question = sampleQuestion()
        let line = question.jsonLine
        #expect(line.last == 10 && line.dropLast().contains(10) == false)
        let json = try JSONValue(parsing: line.dropLast())
        #expect(json["arguments"]?["amount"] == .number("250"))
        #expect(json["timeoutSeconds"]?.intValue == 60)
        #expect(
            json.objectValue?.keys == [
                "id", "session", "persona", "server", "tool", "arguments", "argumentsDigest", "rule", "reason",
                "timeoutSeconds",
            ])
        #expect(ApprovalQuestion(json: json) == question)
    }

    @Test func presentationShowsEveryArgumentAndEscapesWhatCouldRedrawTheTerminal() {
        var question = sampleQuestion()
        let long = String(repeating: "z", count: 5000)
        question.arguments = Array("{\"a\":\"\(long)\",\"b\":\"\u{202E}evil\"}".utf8)
        let shown = ApprovalPresentation.full(question)
        #expect(shown.contains(long))
        #expect(!shown.contains("\u{202E}"))
        #expect(shown.contains("\\u{202e}evil"))
        #expect(!ApprovalPresentation.full(sampleQuestion()).contains("\u{1B}"))
        // A Hangul filler draws nothing though Unicode calls it a letter: shown as an escape on the terminal too.
        var filler = sampleQuestion()
        filler.arguments = Array("{\"customer\":\"cus_1\u{3164}\"}".utf8)
        #expect(ApprovalPresentation.full(filler).contains("cus_1\\u{3164}"))
        #expect(ApprovalPresentation.arguments(question, limit: 50).contains("approve shows them all"))
    }

    @Test func codesAreRandomAndComparedLeniently() {
        let codes = Set((0..<50).map { _ in ApprovalProtocol.newCode() })
        #expect(codes.count == 50)
        #expect(ApprovalProtocol.sameCode("K7PX-2M9Q", "k7px 2m9q"))
        #expect(!ApprovalProtocol.sameCode("K7PX-2M9Q", "K7PX-2M9"))
        #expect(!ApprovalProtocol.sameCode("", ""))
    }
}
