import Foundation
import Testing

@testable import PersonaShim

/// Human approval in the core, in-process on a fake clock: a call a rule says to `ask` about is parked while a
/// person is asked, and only an explicit yes lets that one call (its own bytes) through.
@Suite struct SessionCoreApprovalTests {
    static func persona(mode: String = "enforce", approval: String = "{}", extra: String = "") -> String {
        """
        {"persona": "refunds", "purpose": "Tests approvals.", "owner": "t@example.com", "reviewBy": "2030-01-01",
         "mode": "\(mode)", "servers": {"a": {"command": "a-server"}, "b": {"command": "b-server"}},
         "tools": {"allow": ["a__*", "b__*"]}, "approval": \(approval),
         "rules": [{"id": "big-refunds", "tools": ["a__refund"], "when": {"amount": {"exclusiveMinimum": 100}},
                    "decision": "ask", "reason": "Refunds above 100 need a person"}]\(extra)}
        """
    }

    static let elicitation = #"{"elicitation":{"form":{}}}"#

    func ready(_ persona: String = Self.persona(), capabilities: String = Self.elicitation) throws -> CoreHarness {
        let harness = try CoreHarness(persona: persona)
        _ = harness.initializeAgent(capabilities: capabilities)
        try harness.bringUp(0, tools: ["refund", "echo"])
        try harness.bringUp(1, tools: ["post"])
        _ = harness.agentMessages()
        return harness
    }

    static let refundArguments = #"{ "note": "ok",  "amount": 250 }"#

    func call(_ id: Int, _ tool: String = "a__refund", _ arguments: String = Self.refundArguments) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#
    }

    /// The shim's `elicitation/create` for the parked call, and its id.
    func question(_ harness: CoreHarness) throws -> (id: Int, params: [String: Any]) {
        let messages = harness.agentMessages()
        let request = try #require(messages.first { $0["method"] as? String == "elicitation/create" }, "\(messages)")
        return (try #require(request["id"] as? Int), try #require(request["params"] as? [String: Any]))
    }

    func answer(_ harness: CoreHarness, _ id: Int, result: String) {
        harness.agent(#"{"jsonrpc":"2.0","id":\#(id),"result":\#(result)}"#)
    }

    func forwardedCalls(_ harness: CoreHarness, _ server: Int = 0) -> [String] {
        let bytes = harness.core.output(for: server).takeAll()
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).filter {
            $0.contains(#""tools/call""#)
        }
    }

    func events(_ harness: CoreHarness, _ name: String) throws -> [[String: Any]] {
        try harness.auditRecords().filter { $0["event"] as? String == name }
    }

    static func refusalText(_ message: [String: Any]?) -> String? {
        guard message?.result?["isError"] as? Bool == true else { return nil }
        return ((message?.result?["content"] as? [[String: Any]])?.first?["text"] as? String)
    }

    // MARK: In the client, old era

    @Test func anAcceptedYesForwardsExactlyTheParkedBytesOnce() throws {
        let harness = try ready()
        harness.agent(call(7))
        #expect(forwardedCalls(harness).isEmpty, "parked: nothing reaches the server")
        let (id, params) = try question(harness)
        let message = try #require(params["message"] as? String)
        for part in [
            #""refunds""#, #""a__refund""#, #"server "a""#, #"{"amount":250,"note":"ok"}"#,
            "Refunds above 100 need a person", "big-refunds", "sha256:",
        ] {
            #expect(message.contains(part), "\(part) in \(message)")
        }
        #expect(params["mode"] as? String == "form")
        let schema = try #require(params["requestedSchema"] as? [String: Any])
        #expect(schema["required"] as? [String] == ["approve"])
        answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        let forwarded = forwardedCalls(harness)
        #expect(forwarded.count == 1)
        // Byte for byte what the agent sent (only the id and the tool's name are the server's own).
        #expect(forwarded.first?.contains(#""arguments":\#(Self.refundArguments)"#) == true, "\(forwarded)")
        let asked = try #require(try events(harness, "approval.asked").first)
        let answered = try #require(try events(harness, "approval.answered").first)
        let decision = try #require(try events(harness, "call.decision").last)
        #expect(asked["channel"] as? String == "client")
        #expect(asked["rule"] as? String == "big-refunds")
        #expect(answered["answer"] as? String == "approved" && answered["by"] as? String == "client")
        #expect(decision["decision"] as? String == "allow")
        #expect(decision["approval"] as? String == asked["approval"] as? String)
        #expect(decision["approvedArgsDigest"] as? String == decision["argsDigest"] as? String)
        #expect(decision["argsDigest"] as? String == asked["argsDigest"] as? String)
        // A second answer to the same question changes nothing.
        answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(forwardedCalls(harness).isEmpty)
    }

    @Test(arguments: [
        (#"{"action":"decline"}"#, "denied"),
        (#"{"action":"cancel"}"#, "denied"),
        (#"{"action":"accept","content":{"approve":false}}"#, "denied"),
        (#"{"action":"accept","content":{"approve":"yes"}}"#, "failed"),
        (#"{"action":"accept","content":{}}"#, "failed"),
        (#"{"action":"approve"}"#, "failed"),
        (#""accept""#, "failed"),
    ])
    func anythingButAnExplicitYesRefuses(_ result: String, _ verdict: String) throws {
        let harness = try ready()
        harness.agent(call(7))
        let (id, _) = try question(harness)
        answer(harness, id, result: result)
        #expect(forwardedCalls(harness).isEmpty)
        let reply = harness.agentMessages()
        #expect(reply.count == 1 && reply.first?["id"] as? Int == 7)
        let text = try #require(Self.refusalText(reply.first))
        #expect(text.contains("needs a person's approval") && text.contains("nothing reached the server"), "\(text)")
        #expect(try events(harness, "approval.answered").first?["answer"] as? String == verdict)
        let decision = try #require(try events(harness, "call.decision").last)
        #expect(decision["decision"] as? String == "deny" && decision["rule"] as? String == "big-refunds")
    }

    @Test func a2025_06_18ClientIsAskedWithoutAMode() throws {
        let harness = try CoreHarness(persona: Self.persona())
        harness.agent(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"older","version":"1"}}}"#
        )
        _ = harness.core.takeActions()
        try harness.bringUp(0, tools: ["refund", "echo"])
        try harness.bringUp(1, tools: ["post"])
        _ = harness.agentMessages()
        harness.agent(call(7))
        let (id, params) = try question(harness)
        #expect(params["mode"] == nil && params["requestedSchema"] != nil)
        answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(forwardedCalls(harness).count == 1)
    }

    @Test func anErrorAnswerRefuses() throws {
        let harness = try ready()
        harness.agent(call(7))
        let (id, _) = try question(harness)
        harness.agent(#"{"jsonrpc":"2.0","id":\#(id),"error":{"code":-32603,"message":"no UI"}}"#)
        #expect(forwardedCalls(harness).isEmpty)
        let text = try #require(Self.refusalText(harness.agentMessages().first))
        #expect(text.contains("error -32603") && text.contains("no UI"), "\(text)")
        #expect(try events(harness, "approval.answered").first?["answer"] as? String == "failed")
    }

    @Test func noAnswerByTheTimeoutRefusesAndWithdrawsTheQuestion() throws {
        let harness = try ready(Self.persona(approval: #"{"timeoutSeconds": 30}"#))
        harness.agent(call(7))
        let (id, params) = try question(harness)
        #expect((params["message"] as? String)?.contains("30 seconds") == true)
        harness.advance(seconds: 29)
        #expect(harness.agentMessages().isEmpty)
        harness.advance(seconds: 2)
        let messages = harness.agentMessages()
        let cancel = try #require(messages.first { $0["method"] as? String == "notifications/cancelled" })
        #expect((cancel["params"] as? [String: Any])?["requestId"] as? Int == id)
        let text = try #require(Self.refusalText(messages.first { $0["id"] as? Int == 7 }))
        #expect(text.contains("nobody answered within 30 seconds"), "\(text)")
        #expect(try events(harness, "approval.answered").first?["answer"] as? String == "timeout")
        // A late yes is ignored: the call was refused and stays refused.
        answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(forwardedCalls(harness).isEmpty)
        #expect(harness.agentMessages().isEmpty)
    }

    @Test func otherCallsKeepFlowingWhileOneIsParked() throws {
        let harness = try ready()
        harness.agent(call(7))
        let (id, _) = try question(harness)
        harness.agent(call(8, "a__echo", #"{"x":1}"#))
        harness.agent(call(9, "a__refund", #"{"amount":5}"#))
        harness.agent(call(10, "b__post", #"{}"#))
        #expect(forwardedCalls(harness, 0).count == 2)
        #expect(forwardedCalls(harness, 1).count == 1)
        answer(harness, id, result: #"{"action":"decline"}"#)
        #expect(Self.refusalText(harness.agentMessages().first) != nil)
    }

    @Test func aCancelledParkedCallIsDroppedAndItsQuestionWithdrawn() throws {
        let harness = try ready()
        harness.agent(call(7))
        let (id, _) = try question(harness)
        harness.agent(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#)
        let messages = harness.agentMessages()
        #expect(messages.count == 1)
        #expect((messages.first?["params"] as? [String: Any])?["requestId"] as? Int == id)
        #expect(!harness.core.owesAgent)
        answer(harness, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(forwardedCalls(harness).isEmpty)
        #expect(harness.agentMessages().isEmpty)
        #expect(try events(harness, "approval.answered").first?["answer"] as? String == "withdrawn")
    }

    @Test func theSessionEndingRefusesParkedCalls() throws {
        let harness = try ready()
        harness.agent(call(7))
        _ = try question(harness)
        #expect(harness.core.owesAgent)
        harness.core.answerEverythingOwed()
        let messages = harness.agentMessages()
        #expect(messages.contains { $0["method"] as? String == "notifications/cancelled" })
        #expect(Self.refusalText(messages.first { $0["id"] as? Int == 7 })?.contains("shutting down") == true)
    }

    @Test func monitorModeRecordsAWouldAskAndLetsTheCallThrough() throws {
        let harness = try ready(Self.persona(mode: "monitor"))
        harness.agent(call(7))
        #expect(forwardedCalls(harness).count == 1)
        #expect(harness.agentMessages().isEmpty, "nobody is asked")
        let decision = try #require(try events(harness, "call.decision").last)
        #expect(decision["decision"] as? String == "ask" && decision["enforced"] as? Bool == false)
        #expect(try events(harness, "approval.asked").isEmpty)
    }

    @Test func aRefusedApprovalGivesItsPlaceUnderTheLimitsBackAndAnApprovedOneCountsOnce() throws {
        let harness = try ready(
            Self.persona(extra: #", "limits": [{"id": "one-refund", "tools": ["a__refund"], "calls": 1, "per": "1h"}]"#)
        )
        harness.agent(call(7))
        answer(harness, try question(harness).id, result: #"{"action":"decline"}"#)
        _ = harness.agentMessages()
        harness.agent(call(8))
        answer(harness, try question(harness).id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(forwardedCalls(harness).count == 1)
        harness.agent(call(9))
        let text = try #require(Self.refusalText(harness.agentMessages().first))
        #expect(text.contains("one-refund"), "\(text)")
    }

    @Test func parkedCallsAreBounded() throws {
        let harness = try ready()
        for id in 1...ApprovalBook.parkedLimit { harness.agent(call(id)) }
        #expect(harness.agentMessages().count == ApprovalBook.parkedLimit)
        harness.agent(call(1000))
        let text = try #require(Self.refusalText(harness.agentMessages().first))
        #expect(text.contains("as many as may wait at once"), "\(text)")
    }

    // MARK: Out of band

    func outOfBandQuestion(_ harness: CoreHarness) throws -> ApprovalQuestion {
        let actions = harness.core.takeActions()
        for action in actions { if case .askOutOfBand(let question) = action { return question } }
        Issue.record("no askOutOfBand in \(actions)")
        throw CancellationError()
    }

    @Test func aClientThatCannotAskGoesOutOfBandAndAnApprovalThereForwards() throws {
        let harness = try ready(capabilities: "{}")
        harness.agent(call(7))
        let question = try outOfBandQuestion(harness)
        #expect(harness.agentMessages().isEmpty)
        #expect(question.tool == "a__refund" && question.server == "a" && question.rule == "big-refunds")
        #expect(String(decoding: question.arguments, as: UTF8.self) == #"{"amount":250,"note":"ok"}"#)
        #expect(question.argumentsDigest.hasPrefix("sha256:") && question.timeoutSeconds == 120)
        harness.core.approvalAnswered(id: question.id, .approved(by: "terminal", how: "persona-shim approve on a tty"))
        #expect(forwardedCalls(harness).count == 1)
        let answered = try #require(try events(harness, "approval.answered").first)
        #expect(answered["by"] as? String == "terminal" && answered["answer"] as? String == "approved")
        #expect(try events(harness, "approval.asked").first?["channel"] as? String == "out-of-band")
    }

    @Test func anOutOfBandDenialRefuses() throws {
        let harness = try ready(Self.persona(approval: #"{"channel": "out-of-band"}"#))
        harness.agent(call(7))
        let question = try outOfBandQuestion(harness)
        #expect(harness.agentMessages().isEmpty, "the client is not asked when the persona says out of band")
        harness.core.approvalAnswered(id: question.id, .denied(by: "command", how: "exited 1"))
        #expect(forwardedCalls(harness).isEmpty)
        #expect(Self.refusalText(harness.agentMessages().first)?.contains("command: exited 1") == true)
    }

    @Test func anOutOfBandQuestionTimesOutAndIsWithdrawn() throws {
        let harness = try ready(Self.persona(approval: #"{"channel": "out-of-band", "timeoutSeconds": 5}"#))
        harness.agent(call(7))
        let question = try outOfBandQuestion(harness)
        harness.advance(seconds: 6)
        #expect(harness.core.takeActions() == [.withdrawQuestion(id: question.id)])
        #expect(Self.refusalText(harness.agentMessages().first)?.contains("nobody answered") == true)
        harness.core.approvalAnswered(id: question.id, .approved(by: "terminal", how: "late"))
        #expect(forwardedCalls(harness).isEmpty)
    }

    /// A yes read after the deadline but before the timer fired (both come in the same turn of the loop) is late:
    /// the question expired, whichever channel answers.
    @Test func aYesAfterTheDeadlineIsTooLateEvenBeforeTheTimerFires() throws {
        let outOfBand = try ready(Self.persona(approval: #"{"channel": "out-of-band", "timeoutSeconds": 5}"#))
        outOfBand.agent(call(7))
        let question = try outOfBandQuestion(outOfBand)
        outOfBand.core.now += 5_000_000_000
        outOfBand.core.approvalAnswered(id: question.id, .approved(by: "terminal", how: "just too late"))
        #expect(forwardedCalls(outOfBand).isEmpty)
        #expect(Self.refusalText(outOfBand.agentMessages().first)?.contains("nobody answered") == true)
        #expect(try events(outOfBand, "approval.answered").first?["answer"] as? String == "timeout")

        let client = try ready(Self.persona(approval: #"{"timeoutSeconds": 5}"#))
        client.agent(call(7))
        let (id, _) = try self.question(client)
        client.core.now += 5_000_000_000
        answer(client, id, result: #"{"action":"accept","content":{"approve":true}}"#)
        #expect(forwardedCalls(client).isEmpty)
        #expect(try events(client, "approval.answered").first?["answer"] as? String == "timeout")
    }

    @Test func theClientChannelRefusesWhenTheClientCannotAsk() throws {
        let harness = try ready(Self.persona(approval: #"{"channel": "client"}"#), capabilities: "{}")
        harness.agent(call(7))
        #expect(harness.core.takeActions().isEmpty)
        #expect(Self.refusalText(harness.agentMessages().first)?.contains("cannot ask a person") == true)
    }

    // MARK: New era

    typealias Eras = SessionCoreEraTests
    static let modernMeta = Eras.meta(capabilities: #"{"elicitation":{"form":{}}}"#)

    func modern(_ persona: String = Self.persona()) throws -> CoreHarness {
        let harness = try CoreHarness(persona: persona)
        harness.agent(Eras.request(1, "tools/list"))
        _ = harness.core.takeActions()
        try harness.bringUpModern(0, tools: ["refund", "echo"])
        try harness.bringUpModern(1, tools: ["post"])
        _ = harness.agentMessages()
        return harness
    }

    func modernCall(
        _ harness: CoreHarness, _ id: Int, tool: String = "a__refund", arguments: String = Self.refundArguments,
        extra: String = ""
    ) -> [String: Any]? {
        harness.agent(
            Eras.request(
                id, "tools/call", params: #""name":"\#(tool)","arguments":\#(arguments)\#(extra)"#,
                meta: Self.modernMeta))
        return harness.agentMessages().first
    }

    static func retry(_ token: String, _ answer: String = #"{"action":"accept","content":{"approve":true}}"#)
        -> String
    {
        #","inputResponses":{"persona-shim-approval":\#(answer)},"requestState":"\#(token)""#
    }

    func askModern(_ harness: CoreHarness) throws -> String {
        let interim = try #require(modernCall(harness, 2)?.result)
        #expect(interim["resultType"] as? String == "input_required")
        let inputs = try #require(interim["inputRequests"] as? [String: Any])
        let input = try #require(inputs["persona-shim-approval"] as? [String: Any])
        #expect(input["method"] as? String == "elicitation/create")
        #expect(((input["params"] as? [String: Any])?["message"] as? String)?.contains("a__refund") == true)
        #expect(forwardedCalls(harness).isEmpty)
        return try #require(interim["requestState"] as? String)
    }

    @Test func aNewEraAgentsApprovedRetryRunsTheCallOnce() throws {
        let harness = try modern()
        let token = try askModern(harness)
        #expect(modernCall(harness, 3, extra: Self.retry(token)) == nil, "forwarded: no answer yet")
        let forwarded = forwardedCalls(harness)
        #expect(forwarded.count == 1)
        #expect(forwarded.first.map { !$0.contains("requestState") && !$0.contains("inputResponses") } == true)
        #expect(forwarded.first?.contains(#""amount":250"#) == true)
        let decision = try #require(try events(harness, "call.decision").last)
        #expect(decision["decision"] as? String == "allow")
        #expect(decision["approvedArgsDigest"] as? String == decision["argsDigest"] as? String)
        // The same state again: replayed.
        let replay = Self.refusalText(modernCall(harness, 4, extra: Self.retry(token)))
        #expect(replay?.contains("already used") == true, "\(replay ?? "")")
        #expect(forwardedCalls(harness).isEmpty)
    }

    @Test func aNewEraDeclineRefuses() throws {
        let harness = try modern()
        let token = try askModern(harness)
        let text = Self.refusalText(modernCall(harness, 3, extra: Self.retry(token, #"{"action":"decline"}"#)))
        #expect(text?.contains("did not approve") == true)
        #expect(forwardedCalls(harness).isEmpty)
        #expect(try events(harness, "approval.answered").first?["answer"] as? String == "denied")
    }

    @Test func aNewEraRetryWithoutAnAnswerFails() throws {
        let harness = try modern()
        let token = try askModern(harness)
        let text = Self.refusalText(modernCall(harness, 3, extra: #","requestState":"\#(token)""#))
        #expect(text?.contains("no approval could be obtained") == true, "\(text ?? "")")
        #expect(forwardedCalls(harness).isEmpty)
        #expect(try events(harness, "approval.answered").first?["answer"] as? String == "failed")
    }

    @Test func aTamperedStateIsRefused() throws {
        let harness = try modern()
        let token = try askModern(harness)
        var bytes = Array(token.utf8)
        bytes[12] = bytes[12] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let text = Self.refusalText(
            modernCall(harness, 3, extra: Self.retry(String(decoding: bytes, as: UTF8.self))))
        #expect(text?.contains("forged or altered") == true, "\(text ?? "")")
        #expect(forwardedCalls(harness).isEmpty)
        #expect(modernCall(harness, 4, extra: Self.retry(token)) == nil, "the real state still works")
        #expect(forwardedCalls(harness).count == 1)
    }

    @Test func argumentsChangedBetweenQuestionAndRetryAreRefused() throws {
        let harness = try modern()
        let token = try askModern(harness)
        let text = Self.refusalText(
            modernCall(harness, 3, arguments: #"{"note":"ok","amount":2500}"#, extra: Self.retry(token)))
        #expect(text?.contains("not the ones the person was asked about") == true, "\(text ?? "")")
        #expect(forwardedCalls(harness).isEmpty)
        let decision = try #require(try events(harness, "call.decision").last)
        #expect(decision["decision"] as? String == "deny")
        #expect(decision["approvedArgsDigest"] as? String != decision["argsDigest"] as? String)
    }

    @Test func aStateTakenToAnotherServersToolIsRefused() throws {
        let harness = try modern(
            Self.persona().replacingOccurrences(
                of: #""tools": ["a__refund"]"#, with: #""tools": ["a__refund", "b__post"]"#))
        let token = try askModern(harness)
        let text = Self.refusalText(modernCall(harness, 3, tool: "b__post", extra: Self.retry(token)))
        #expect(text?.contains("issued for another server") == true, "\(text ?? "")")
        #expect(forwardedCalls(harness, 1).isEmpty)
        #expect(modernCall(harness, 4, extra: Self.retry(token)) == nil, "still good for the call it was issued for")
        #expect(forwardedCalls(harness, 0).count == 1)
    }

    @Test func anExpiredNewEraApprovalIsRefused() throws {
        let harness = try modern(Self.persona(approval: #"{"timeoutSeconds": 10}"#))
        let token = try askModern(harness)
        harness.advance(seconds: 11)
        let text = Self.refusalText(modernCall(harness, 3, extra: Self.retry(token)))
        #expect(text?.contains("after the approval timeout") == true, "\(text ?? "")")
        #expect(forwardedCalls(harness).isEmpty)
    }

    // MARK: The persona's approval object

    @Test func theApprovalObjectIsDecodedAndItsMistakesHaveLocations() throws {
        let good = PersonaLoader.decode(
            bytes: Array(
                Self.persona(
                    approval:
                        #"{"channel": "out-of-band", "timeoutSeconds": 45, "command": ["./ask.sh", "-v"], "terminal": false}"#
                )
                .utf8), path: "/p/persona.json")
        let settings = try #require(good.persona?.approval)
        #expect(settings.channel == .outOfBand && settings.timeoutSeconds == 45 && !settings.terminal)
        #expect(settings.command == ["/p/ask.sh", "-v"])
        #expect(try CoreHarness(persona: Self.persona()).core.persona.approval == ApprovalSettings())
        let bad = PersonaLoader.decode(
            bytes: Array(Self.persona(approval: #"{"chanel": "client", "timeoutSeconds": 2.5}"#).utf8),
            path: "/p/persona.json")
        let messages = bad.diagnostics.map(\.description)
        #expect(bad.persona == nil)
        #expect(messages.contains { $0.hasPrefix("/p/persona.json:3:") && $0.contains(#"did you mean "channel""#) })
        #expect(messages.contains { $0.contains("\"timeoutSeconds\" must be a whole number of seconds") })
    }

    // MARK: The question as a person reads it

    @Test func theQuestionEscapesWhatAPersonCannotSeeAndNeverCutsAValue() {
        let hidden = ApprovalPrompt.sanitized("pay\u{202E}evil\u{200B}\u{1B}[2J\u{E0041}")
        #expect(hidden == #"pay\u202eevil\u200b\u001b[2J\udb40\udc41"#)
        // Format characters beyond the usual bidi and zero-width ones, and blanks filed as letters or marks: a
        // customer id "cus_1\u{3164}" must not read as "cus_1".
        let blanks = ApprovalPrompt.sanitized("a\u{0600}b\u{1D173}c\u{3164}d\u{115F}e\u{FE0F}f\u{034F}g\u{E000}h")
        #expect(blanks == #"a\u0600b\ud834\udd73c\u3164d\u115fe\ufe0ff\u034fg\ue000h"#)
        let long = String(repeating: "x", count: 20_000)
        var canonical: [UInt8] = []
        JSONWriter.append(["a": .string(long), "b": "short"], to: &canonical, canonical: true)
        let (shown, abbreviated) = ApprovalPrompt.displayedArguments(canonical)
        #expect(abbreviated)
        #expect(shown.contains("<20000 bytes, sha256:\(SHA256.hash(Array(long.utf8)).hexString)>"))
        #expect(shown.contains(#""b":"short""#))
        let small = Array(#"{"a":"\u202e"}"#.utf8)
        #expect(ApprovalPrompt.displayedArguments(small) == (#"{"a":"\u202e"}"#, false))
    }
}
