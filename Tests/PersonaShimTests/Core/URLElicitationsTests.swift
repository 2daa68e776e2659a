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

extension URLElicitationsTests {
    @Test func aServerThatGoesAwayTakesItsOpenElicitationsWithIt() {
        var table = URLElicitations()
        #expect(table.expose("e", server: 0) == "e")
        #expect(table.expose("f", server: 1) == "f")
        table.forget(server: 0)
        #expect(table.complete("e", server: 0) == nil)
        #expect(table.complete("f", server: 1) == "f")
    }

    @Test func theTableIsBounded() {
        var table = URLElicitations()
        for index in 0..<URLElicitations.limit { _ = table.expose("e\(index)", server: 0) }
        #expect(table.expose("one-too-many", server: 0) == "one-too-many")
        #expect(table.complete("one-too-many", server: 0) == nil, "past the bound, nothing is remembered")
        #expect(table.complete("e0", server: 0) == "e0")
    }
}
