import Foundation
import Testing

@testable import PersonaShim

@Suite struct SystemTests {
    @Test(arguments: ["1970-01-01", "1999-12-31", "2000-02-29", "2024-02-29", "2026-11-21", "2027-06-30", "2100-03-01"])
    func endOfDayMatchesFoundationsCalendar(_ text: String) throws {
        let date = try #require(CalendarDate(text))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let start = try #require(calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day)))
        #expect(date.endOfDay.secondsSince1970 == start.timeIntervalSince1970 + 86_400)
    }

    @Test(arguments: [
        ("/a/b/../c/./d", "/a/c/d"), ("/a//b/", "/a/b"), ("/..", "/"), ("/", "/"),
    ])
    func standardize(_ path: String, _ expected: String) {
        #expect(Paths.standardize(path) == expected)
    }

    @Test func resolveAndSplit() {
        #expect(Paths.resolve("../x/y.json", against: "/etc/personas") == "/etc/x/y.json")
        #expect(Paths.resolve("/abs", against: "/etc") == "/abs")
        #expect(Paths.directory(of: "/etc/personas/p.json") == "/etc/personas")
        #expect(Paths.directory(of: "/p.json") == "/")
        #expect(Paths.directory(of: "p.json") == ".")
        #expect(Paths.lastComponent("/usr/bin/uvx") == "uvx")
    }

    @Test func environmentMatchesFoundations() {
        #expect(ProcessEnvironment.current() == ProcessInfo.processInfo.environment)
    }

    @Test func filesRoundTrip() throws {
        let folder = try #require(Files.makeTemporaryDirectory(prefix: "ps-files-"))
        defer { Files.removeFlatDirectory(folder) }
        let nested = folder + "/a/b"
        #expect(Files.createDirectories(nested, mode: 0o700) == nil)
        #expect(Files.write(Array("hello".utf8), to: folder + "/f.txt"))
        #expect(Files.read(folder + "/f.txt") == Array("hello".utf8))
        #expect(Files.read(folder + "/missing") == nil)
        rmdir(nested)
        rmdir(folder + "/a")
    }
}
