import Dispatch
import Glibc
import Synchronization
import Testing

@testable import PersonaShim

@Suite struct LimitTrackerTests {
    let epoch = Instant(secondsSince1970: 1_800_000_000)

    func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(seconds * 1e9)) }

    func reserve(_ tracker: inout LimitTracker, _ tool: String, _ server: String = "s", at seconds: Double)
        -> LimitOutcome
    {
        tracker.reserve(tool: tool, server: server, now: at(seconds), wallClock: epoch)
    }

    @Test func pipelinedCallsCannotOvershoot() {
        var tracker = LimitTracker(limits: [CallLimit(id: "ten", scope: .persona, calls: 10, per: RuleInterval("1m"))])
        var allowed = 0
        for index in 0..<200 {
            if case .reserved = reserve(&tracker, "t", at: 1 + Double(index) / 1000) { allowed += 1 }
        }
        #expect(allowed == 10)
    }

    @Test func slidingWindowSaysWhenTheNextCallIsAllowed() {
        var tracker = LimitTracker(limits: [
            CallLimit(id: "searches", scope: .tools([Glob("search__*")]), calls: 2, per: RuleInterval("1m"))
        ])
        guard case .reserved = reserve(&tracker, "search__web", at: 0) else { Issue.record("first"); return }
        guard case .reserved = reserve(&tracker, "search__docs", at: 10) else { Issue.record("second"); return }
        guard case .reserved = reserve(&tracker, "crm__get", at: 11) else { Issue.record("other tool"); return }
        guard case .refused(let decision, let retry) = reserve(&tracker, "search__web", at: 20) else {
            Issue.record("third should be refused"); return
        }
        #expect(decision.rule == "limits.searches")
        #expect(decision.reason?.contains("in 40 seconds") == true)
        #expect(decision.reason?.contains("2 calls per 1m to tools matching search__*") == true)
        #expect(retry == at(60))
        guard case .reserved = reserve(&tracker, "search__web", at: 60) else { Issue.record("after window"); return }
        guard case .refused = reserve(&tracker, "search__web", at: 69.9) else { Issue.record("still full"); return }
    }

    @Test func budgetsAndRelease() {
        var tracker = LimitTracker(limits: [
            CallLimit(id: "session", scope: .persona, calls: 3),
            CallLimit(id: "billing", scope: .servers(["billing"]), calls: 1),
        ])
        guard case .reserved(let first) = reserve(&tracker, "billing__refund", "billing", at: 0) else {
            Issue.record("first"); return
        }
        guard case .refused(let decision, let retry) = reserve(&tracker, "billing__refund", "billing", at: 1) else {
            Issue.record("second billing call"); return
        }
        #expect(decision.rule == "limits.billing")
        #expect(retry == nil)
        #expect(decision.reason?.contains("no further calls are allowed in this session") == true)
        // A refused call counts against nothing: the session budget still has two calls.
        tracker.release(first)
        guard case .reserved = reserve(&tracker, "billing__refund", "billing", at: 2) else {
            Issue.record("released"); return
        }
        guard case .reserved = reserve(&tracker, "crm__x", "crm", at: 3) else { Issue.record("budget 2"); return }
        guard case .reserved = reserve(&tracker, "crm__x", "crm", at: 3.5) else { Issue.record("budget 3"); return }
        guard case .refused(let exhausted, _) = reserve(&tracker, "crm__x", "crm", at: 4) else {
            Issue.record("budget used up"); return
        }
        #expect(exhausted.rule == "limits.session")
    }

    @Test func releasingOutOfOrderInAWindow() {
        var tracker = LimitTracker(limits: [CallLimit(id: "w", scope: .persona, calls: 2, per: RuleInterval("10s"))])
        guard case .reserved(let a) = reserve(&tracker, "t", at: 1), case .reserved = reserve(&tracker, "t", at: 2)
        else { Issue.record("two"); return }
        tracker.release(a)
        guard case .reserved = reserve(&tracker, "t", at: 3) else { Issue.record("freed"); return }
        guard case .refused(_, let retry) = reserve(&tracker, "t", at: 4) else { Issue.record("full"); return }
        #expect(retry == at(12))
    }

    @Test func sharedLimitWithoutAStoreRefuses() {
        var tracker = LimitTracker(limits: [
            CallLimit(id: "daily", scope: .persona, calls: 5, per: RuleInterval("1d"), acrossSessions: true)
        ])
        guard case .refused(let decision, _) = reserve(&tracker, "t", at: 0) else {
            Issue.record("fail closed"); return
        }
        #expect(decision.reason?.contains("cannot be checked") == true)
    }
}

@Suite struct FileLimitStoreTests {
    @Test func concurrentSessionsCannotOvershoot() throws {
        let directory = try #require(Files.makeTemporaryDirectory(prefix: "persona-limits"))
        let store = FileLimitStore(directory: directory, persona: "p")
        let limit = CallLimit(id: "ten", scope: .persona, calls: 10, per: RuleInterval("1h"), acrossSessions: true)
        defer {
            unlink(store.path(for: limit))
            unlink(store.path(for: limit) + ".lock")
            rmdir(directory)
        }
        let reserved = Atomic<Int>(0)
        // Each attempt opens the file anew, as separate sessions (processes) do; flock excludes them.
        DispatchQueue.concurrentPerform(iterations: 60) { index in
            if store.reserve(limit: limit, now: 1_800_000_000_000_000_000 + Int64(index)) == .reserved {
                reserved.add(1, ordering: .relaxed)
            }
        }
        #expect(reserved.load(ordering: .relaxed) == 10)
    }

    @Test func defaultDirectoryIsBesideTheAudit() {
        #expect(FileLimitStore.defaultDirectory(["XDG_STATE_HOME": "/s"]) == "/s/persona-shim/limits")
        #expect(FileLimitStore.defaultDirectory(["HOME": "/h"]) == "/h/.local/state/persona-shim/limits")
    }

    @Test func countsAcrossSessionsAndRestarts() throws {
        let directory = try #require(Files.makeTemporaryDirectory(prefix: "persona-limits"))
        let store = FileLimitStore(directory: directory + "/state", persona: "ci-agent")
        let limit = CallLimit(
            id: "refunds", scope: .tools([Glob("billing__refund")]), calls: 2, per: RuleInterval("1d"),
            acrossSessions: true)
        defer {
            unlink(store.path(for: limit))
            unlink(store.path(for: limit) + ".lock")
            rmdir(directory + "/state")
            rmdir(directory)
        }
        let day: Int64 = 86_400_000_000_000
        let start: Int64 = 1_800_000_000_000_000_000
        // Two sessions, one after the other, each with its own tracker: the second sees the first's calls.
        var first = LimitTracker(limits: [limit], shared: store)
        var second = LimitTracker(
            limits: [limit], shared: FileLimitStore(directory: directory + "/state", persona: "ci-agent"))
        let wall = { (ns: Int64) in Instant(secondsSince1970: Double(ns) / 1e9) }
        let now = MonotonicInstant(nanoseconds: 5)
        guard case .reserved = first.reserve(tool: "billing__refund", server: "b", now: now, wallClock: wall(start))
        else {
            Issue.record("first"); return
        }
        guard
            case .reserved(let taken) = second.reserve(
                tool: "billing__refund", server: "b", now: now, wallClock: wall(start + 1_000_000_000))
        else {
            Issue.record("second"); return
        }
        guard
            case .refused(let decision, _) = first.reserve(
                tool: "billing__refund", server: "b", now: now, wallClock: wall(start + 2_000_000_000))
        else {
            Issue.record("third"); return
        }
        #expect(decision.reason?.contains("across all sessions") == true)
        second.release(taken)
        guard
            case .reserved = first.reserve(
                tool: "billing__refund", server: "b", now: now, wallClock: wall(start + 3_000_000_000))
        else {
            Issue.record("released in another session"); return
        }
        #expect(store.reserve(limit: limit, now: start + day + 1) == .reserved)
        // A damaged file refuses rather than starting afresh.
        #expect(Files.write(Array("garbage\n".utf8), to: store.path(for: limit)))
        guard case .unavailable(let why) = store.reserve(limit: limit, now: start) else {
            Issue.record("damaged"); return
        }
        #expect(why.contains("damaged"))
        // An unusable state directory refuses.
        let blocked = FileLimitStore(directory: store.path(for: limit) + "/sub", persona: "x")
        guard case .unavailable = blocked.reserve(limit: limit, now: start) else {
            Issue.record("no directory"); return
        }
    }
}
