import Testing

@testable import PersonaShim

/// The ids URL-mode elicitations reach the agent under, and who may complete them.
@Suite struct URLElicitationsTests {
    @Test func twoServersSameIdGetTwoIdsAndEachCompletesOnlyItsOwn() {
        var elicitations = URLElicitations()
        let first = elicitations.expose("e1", server: 0)
        let second = elicitations.expose("e1", server: 1)
        #expect(first == "e1", "an id nobody else uses reaches the agent as the server wrote it")
        #expect(second != first)
        #expect(elicitations.expose("e1", server: 1) == second, "the same elicitation keeps its id")
        #expect(elicitations.complete("e1", server: 2) == nil)
        #expect(elicitations.complete("e1", server: 1) == second)
        #expect(elicitations.complete("e1", server: 1) == nil, "completed once")
        #expect(elicitations.complete("e1", server: 0) == first)
    }

    @Test func aServerCannotTakeTheSuffixedIdOfAnother() {
        var elicitations = URLElicitations()
        _ = elicitations.expose("e1", server: 0)
        let suffixed = elicitations.expose("e1", server: 1)
        let forged = elicitations.expose(suffixed, server: 2)
        #expect(forged != suffixed)
        #expect(elicitations.complete(suffixed, server: 1) == nil, "server 1 knows its elicitation as e1")
        #expect(elicitations.complete("e1", server: 1) == suffixed)
    }
}
