import Glibc
import Testing

@testable import PersonaShim

/// A file tree in memory: folders, files and links by absolute path.
struct FakeFileSystem: FileSystemView {
    var entries: [String: FileSystemEntry]

    func entry(at path: String) -> FileSystemEntry {
        if path == "/" { return .directory }
        return entries[path] ?? .missing
    }
}

@Suite struct PathRuleTests {
    let fake = FakeFileSystem(entries: [
        "/srv": .directory, "/srv/app": .directory, "/srv/app/src": .directory, "/srv/app/src/main.swift": .file,
        "/srv/app_evil": .directory, "/srv/app/out": .symlink(target: "/etc"),
        "/srv/app/up": .symlink(target: "../.."), "/srv/app/rel": .symlink(target: "src"),
        "/srv/app/loop": .symlink(target: "loop"), "/home": .directory, "/home/me": .directory,
        "/home/me/.ssh": .directory, "/srv/link-to-app": .symlink(target: "/srv/app"), "/etc": .directory,
        "/srv/app/deep": .symlink(target: "/srv/app/src/nested"),
    ])

    var resolver: PathResolver { PathResolver(fileSystem: fake, home: "/home/me", workingDirectory: "/srv/app") }

    @Test(arguments: [
        ("/srv/app/src/main.swift", "/srv/app/src/main.swift"), ("src//./main.swift", "/srv/app/src/main.swift"),
        ("~/.ssh/id_rsa", "/home/me/.ssh/id_rsa"), ("~", "/home/me"), ("/srv/app/out/passwd", "/etc/passwd"),
        ("/srv/app/out/../shadow", "/shadow"), ("/srv/app/rel/main.swift", "/srv/app/src/main.swift"),
        ("/srv/app/up/etc", "/etc"), ("file:///srv/app/src/m%61in.swift", "/srv/app/src/main.swift"),
        ("file://localhost/srv/app/x?y#z", "/srv/app/x"), ("/srv/link-to-app/new/file.txt", "/srv/app/new/file.txt"),
        ("/srv/app/new/../../../etc", "/etc"), ("/srv/app/deep/new.txt", "/srv/app/src/nested/new.txt"),
        ("../app_evil/x", "/srv/app_evil/x"), ("/srv/app/missing/../out/passwd", "/etc/passwd"),
        ("/srv/app/missing/../../link-to-app/out", "/etc"), ("/srv/app/src/main.swift/.", "/srv/app/src/main.swift"),
    ])
    func resolves(_ input: String, _ expected: String) throws {
        #expect(try resolver.resolve(input) == expected)
    }

    @Test func refuses() {
        #expect(throws: PathResolver.Failure.nulByte) { try resolver.resolve("/srv/app/a\u{0}b") }
        #expect(throws: PathResolver.Failure.backslash) { try resolver.resolve("/srv/app\\..\\etc") }
        #expect(throws: PathResolver.Failure.backslash) { try resolver.resolve("file:///srv/app/%5c..") }
        #expect(throws: PathResolver.Failure.nulByte) { try resolver.resolve("file:///srv/app/%00") }
        #expect(throws: PathResolver.Failure.linkLoop("/srv/app/loop/x")) { try resolver.resolve("/srv/app/loop/x") }
        #expect(throws: PathResolver.Failure.self) { try resolver.resolve("file://evil/srv/app") }
        #expect(throws: PathResolver.Failure.self) { try resolver.resolve("file:///srv/%zz") }
        #expect(throws: PathResolver.Failure.empty) { try resolver.resolve("") }
        #expect(throws: PathResolver.Failure.otherHome) { try resolver.resolve("~root/.ssh") }
        #expect(throws: PathResolver.Failure.notADirectory("/srv/app/src/main.swift")) {
            try resolver.resolve("/srv/app/src/main.swift/../../../etc")
        }
    }

    @Test func scopeComparesWholeComponents() throws {
        let scope = try PathScope(under: ["/srv/app"], notUnder: ["/srv/app/.git"], resolver: resolver)
        let condition = ArgumentCondition(try JSONPointer("path"), [.paths(scope)])
        func outcome(_ path: String) -> String {
            switch condition.check(["path": .string(path)], paths: resolver) {
            case .holds: "holds"
            case .absent: "absent"
            case .fails: "fails"
            case .cannotEvaluate: "cannot"
            }
        }
        #expect(outcome("/srv/app") == "holds")
        #expect(outcome("src/main.swift") == "holds")
        #expect(outcome("/srv/app_evil/x") == "fails")
        #expect(outcome("/srv/app/../app_evil") == "fails")
        #expect(outcome("/srv/app/out/passwd") == "fails")
        #expect(outcome("/srv/app/.git/config") == "fails")
        #expect(outcome("/srv/link-to-app/.git/config") == "fails")
        #expect(outcome("/srv/app/%2e%2e/app_evil") == "fails")
        #expect(outcome("/srv/app/new/deeper/file") == "holds")
        #expect(outcome("/srv/app/new/../out/passwd") == "fails")
        #expect(outcome("/srv/app\\x") == "cannot")
        #expect(outcome("/srv/app/%zz") == "cannot")
    }

    @Test func realDirectoryWithRealLinks() throws {
        let root = try #require(Files.makeTemporaryDirectory(prefix: "persona-paths"))
        defer {
            for link in ["/project/escape", "/project/parent"] { unlink(root + link) }
            for folder in ["/project", "/outside", ""] { rmdir(root + folder) }
        }
        let real = PathResolver(home: "/nonexistent", workingDirectory: root)
        // The temporary folder itself may sit behind a link (macOS /tmp, some CI runners).
        let base = try real.resolve(root)
        #expect(mkdir(root + "/project", 0o755) == 0)
        #expect(mkdir(root + "/outside", 0o755) == 0)
        #expect(symlink(root + "/outside", root + "/project/escape") == 0)
        #expect(symlink("..", root + "/project/parent") == 0)
        let scope = try PathScope(under: [root + "/project"], notUnder: [], resolver: real)
        #expect(try real.resolve("project/escape/new.txt") == base + "/outside/new.txt")
        #expect(scope.violation(resolvedPath: try real.resolve("project/escape/new.txt")) != nil)
        #expect(scope.violation(resolvedPath: try real.resolve("project/parent/outside")) != nil)
        #expect(scope.violation(resolvedPath: try real.resolve("project/a/b/c.txt")) == nil)
        #expect(try real.resolve("project/escape/../secret") == base + "/secret")
    }
}
