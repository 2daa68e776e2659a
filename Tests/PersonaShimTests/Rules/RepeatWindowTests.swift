import Testing

@testable import PersonaShim

/// The repeat rule counts calls instead of scanning them; these check that a call leaving the window, by age or
/// by the cap on remembered calls, stops counting.
@Suite struct RepeatWindowTests {
    func at(_ seconds: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(seconds * 1e9)) }

    func digest(_ text: String) -> SHA256.Digest {
        var hasher = SHA256()
        hasher.update(text)
        return hasher.finalizeDigest()
    }

    @Test func callsOlderThanTheWindowStopCounting() {
        var tracker = BehaviourTracker(policy: BehaviourPolicy(repeats: (60, RuleInterval("1m")!)))
        let same = digest("{}")
        // One call a second for three hours: never more than 60 within a minute, so never a breach.
        for second in 0..<10_800 {
            let event = tracker.observeCall(tool: "fx__echo", argumentsDigest: same, now: at(Double(second)))
            if event != nil {
                Issue.record("a breach at second \(second)")
                return
            }
        }
        // Two at the same instant make 61 within the minute.
        #expect(tracker.observeCall(tool: "fx__echo", argumentsDigest: same, now: at(10_799.5))?.kind == "repeats")
    }

    @Test func callsPushedOutByTheCapStopCounting() {
        var tracker = BehaviourTracker(policy: BehaviourPolicy(repeats: (2, RuleInterval("1h")!)))
        let first = digest("first")
        #expect(tracker.observeCall(tool: "fx__echo", argumentsDigest: first, now: at(0)) == nil)
        for index in 0..<BehaviourTracker.maximumRemembered {
            let event = tracker.observeCall(tool: "fx__echo", argumentsDigest: digest("\(index)"), now: at(1))
            #expect(event == nil)
        }
        // The first call is forgotten: two more are still within the limit, a third is not.
        #expect(tracker.observeCall(tool: "fx__echo", argumentsDigest: first, now: at(2)) == nil)
        #expect(tracker.observeCall(tool: "fx__echo", argumentsDigest: first, now: at(3)) == nil)
        #expect(tracker.observeCall(tool: "fx__other", argumentsDigest: first, now: at(3)) == nil)
        let event = tracker.observeCall(tool: "fx__echo", argumentsDigest: first, now: at(4))
        #expect(event?.reason.contains("made 3 times within 1h") == true)
    }
}
