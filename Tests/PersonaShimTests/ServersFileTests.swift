import Foundation
import Testing

@testable import PersonaShim

@Suite struct ServersFileTests {
    let folder: String
    let context: ServersFileContext

    init() {
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent("ps-sf-\(UUID().uuidString.prefix(8))")
            .path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        context = ServersFileContext(
            selfExecutable: "/opt/tools/bin/persona-shim",
            environment: ["HOME": "/home/ada", "TOKEN": "t0k", "PATH": "/usr/bin:/bin"],
            workspaceFolder: "/work/project")
    }

    func load(_ servers: String, file: String = "mcp.json") -> (servers: [ServerSpec], diagnostics: [Diagnostic]) {
        let path = folder + "/" + file
        _ = FileManager.default.createFile(atPath: path, contents: Data(#"{"mcpServers": {\#(servers)}}"#.utf8))
        return PersonaLoader.loadServersFile(path: path, context: context)
    }

    func warnings(_ diagnostics: [Diagnostic]) -> [String] {
        diagnostics.filter { $0.severity == .warning }.map(\.message)
    }

    @Test func aStdioEntryIsRead() {
        let (servers, diagnostics) = load(#""time": {"command": "uvx", "args": ["mcp-server-time"]}"#)
        #expect(diagnostics.isEmpty)
        #expect(
            servers == [
                ServerSpec(name: "time", command: ChildCommand(executable: "uvx", arguments: ["mcp-server-time"]))
            ])
    }

    @Test(arguments: [
        (#""web": {"url": "https://example.com/mcp"}"#, "remote server (\"url\")"),
        (#""web": {"type": "sse", "url": "https://example.com/sse"}"#, "of type \"sse\""),
        (#""web": {"type": "http", "url": "https://example.com/mcp"}"#, "of type \"http\""),
        (#""web": {"type": "streamable-http", "url": "https://x"}"#, "of type \"streamable-http\""),
        (#""web": {"command": "uvx", "disabled": true}"#, "it is disabled"),
    ])
    func entriesPersonaShimCannotRunAreSkippedWithAWarning(_ entry: String, _ why: String) {
        let (servers, diagnostics) = load(entry + #", "time": {"command": "uvx"}"#)
        #expect(servers.map(\.name) == ["time"])
        #expect(!diagnostics.hasErrors)
        #expect(warnings(diagnostics).count == 1)
        #expect(warnings(diagnostics).first?.hasPrefix("skipping server \"web\"") == true, "\(diagnostics)")
        #expect(warnings(diagnostics).first?.contains(why) == true, "\(diagnostics)")
    }

    @Test func aDisabledFalseEntryRuns() {
        #expect(load(#""time": {"command": "uvx", "disabled": false}"#).servers.count == 1)
    }

    @Test(arguments: [
        #"{"command": "persona-shim", "args": ["--persona", "/p.json"]}"#,
        #"{"command": "/usr/local/bin/persona-shim", "args": ["run", "--persona", "/p.json"]}"#,
        #"{"type": "stdio", "command": "persona-shim", "args": ["--persona", "/p.json", "--", "uvx", "x"]}"#,
    ])
    func entriesThatStartPersonaShimAreSkipped(_ entry: String) {
        let (servers, diagnostics) = load(#""support": \#(entry)"#)
        #expect(servers.isEmpty)
        #expect(!diagnostics.hasErrors)
        #expect(warnings(diagnostics).first?.contains("starts persona-shim itself") == true, "\(diagnostics)")
        #expect(warnings(diagnostics).first?.contains("\"support\"") == true)
    }

    @Test func thisBinaryUnderAnotherNameIsRecognised() throws {
        let copy = folder + "/shim-under-another-name"
        try FileManager.default.createSymbolicLink(atPath: copy, withDestinationPath: "/bin/sh")
        let context = ServersFileContext(selfExecutable: "/bin/sh", environment: [:], workspaceFolder: "/")
        let path = folder + "/self.json"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(#"{"servers": {"me": {"command": "\#(copy)"}}}"#.utf8))
        let (servers, diagnostics) = PersonaLoader.loadServersFile(path: path, context: context)
        #expect(servers.isEmpty)
        #expect(warnings(diagnostics).first?.contains("starts persona-shim itself") == true, "\(diagnostics)")
    }

    @Test func theBundledExampleServersStay() {
        let (servers, diagnostics) = load(#""crm": {"command": "persona-shim", "args": ["example-server", "crm"]}"#)
        #expect(servers.map(\.name) == ["crm"])
        #expect(diagnostics.isEmpty)
    }

    @Test func variablesAreExpanded() {
        let (servers, diagnostics) = load(
            #""s": {"command": "${userHome}/bin/s", "args": ["${workspaceFolder}", "--t=${env:TOKEN}", "${TOKEN}", "${UNSET_X:-d}"], "env": {"K": "${env:TOKEN}"}, "cwd": "${workspaceFolder}/sub"}"#
        )
        #expect(!diagnostics.hasErrors, "\(diagnostics)")
        let command = servers.first?.command
        #expect(command?.executable == "/home/ada/bin/s")
        #expect(command?.arguments == ["/work/project", "--t=t0k", "t0k", "d"])
        #expect(command?.environment == ["K": "t0k"])
        #expect(command?.workingDirectory == "/work/project/sub")
    }

    @Test(arguments: [
        ("${input:apiKey}", "asks the person for a value"),
        ("${env:NOT_SET_HERE}", "NOT_SET_HERE, which is not set"),
        ("${NOT_SET_HERE}", "NOT_SET_HERE, which is not set"),
        ("${workspaceFolderBasename}", "unknown variable \"${workspaceFolderBasename}\""),
        ("${config:x}", "unknown variable"),
        ("${unterminated", "without a closing"),
    ])
    func unknownOrUnsetVariablesAreErrorsWithTheirLocation(_ argument: String, _ message: String) {
        let (_, diagnostics) = load(#""s": {"command": "s", "args": ["\#(argument)"]}"#)
        let error = diagnostics.first { $0.severity == .error }
        #expect(error?.message.contains(message) == true, "\(diagnostics)")
        #expect(error?.line == 1)
    }

    @Test func anEnvFileIsReadAndEnvWins() {
        _ = FileManager.default.createFile(
            atPath: folder + "/.env",
            contents: Data("# settings\nA=1\nexport B=\"two words\"\n\n  C = 3  \nD='x=y'\nK=from-file\n".utf8))
        let (servers, diagnostics) = load(#""s": {"command": "s", "envFile": ".env", "env": {"K": "from-env"}}"#)
        #expect(!diagnostics.hasErrors, "\(diagnostics)")
        #expect(
            servers.first?.command.environment == ["A": "1", "B": "two words", "C": "3", "D": "x=y", "K": "from-env"])
    }

    @Test func aMissingOrMalformedEnvFileIsAnError() {
        let missing = load(#""s": {"command": "s", "envFile": "${workspaceFolder}/nope.env"}"#).diagnostics
        #expect(missing.first?.message == "cannot read the envFile /work/project/nope.env: no such file")
        _ = FileManager.default.createFile(atPath: folder + "/bad.env", contents: Data("A=1\nnot a setting\n".utf8))
        let malformed = load(#""s": {"command": "s", "envFile": "bad.env"}"#).diagnostics
        #expect(
            malformed.first?.description
                == "\(folder)/bad.env:2:1: error: expected a KEY=VALUE line in the envFile, not \"not a setting\"")
    }
}

@Suite struct DefaultServerNameTests {
    @Test(arguments: [
        ("uvx mcp-server-git --repository .", "git"),
        ("uvx --from git+https://x/y mcp-server-fetch", "fetch"),
        ("npx -y @modelcontextprotocol/server-filesystem /tmp", "filesystem"),
        ("npx -y @playwright/mcp@latest", "playwright"),
        ("pipx run mcp-server-time", "time"),
        ("python -m mcp_server_time --local-timezone UTC", "time"),
        ("python3 -m mcp_server_git", "git"),
        ("python3 server.py", "server"),
        ("node /srv/weather-mcp/build/weather.js", "weather"),
        ("docker run -i --rm -e GITHUB_TOKEN ghcr.io/github/github-mcp-server:latest", "github"),
        ("bunx figma-mcp", "figma"),
        ("deno run -A jsr:@x/notes-mcp-server", "notes"),
        ("/usr/local/bin/mcp-server-sqlite --db x", "sqlite"),
        ("my.tool", "my_tool"),
        ("uvx", "uvx"),
    ])
    func launchersAndAffixesAreSkipped(_ command: String, _ expected: String) {
        #expect(DefaultServerName.derive(command.split(separator: " ").map(String.init)) == expected)
    }
}

@Suite struct UnmatchedPatternTests {
    @Test func patternsThatMatchNoToolAreReturnedInOrder() {
        let allow = ["crm__get_*", "get_current_time", "git__*", "crm__search"].map(Glob.init)
        let found = UnmatchedPatterns.find(allow: allow, exposedNames: ["crm__get_ticket", "crm__search"])
        #expect(found == [Glob("get_current_time"), Glob("git__*")])
    }

    @Test(arguments: [
        ("get_current_time", "has no \"__\""),
        ("time__get_current_time", "names server \"time\", which this persona does not have"),
        ("uvx__*", "names server \"uvx\""),
    ])
    func neverMatchingPatternsAreExplained(_ pattern: String, _ reason: String) {
        let message = UnmatchedPatterns.reasonNeverMatches(Glob(pattern), servers: ["git", "crm"])
        #expect(message?.contains(reason) == true, "\(message ?? "nil")")
    }

    @Test(arguments: ["git__*", "*", "*time*", "g?t__log", "crm__get_*", "*__delete_*", "crm??x", "a___b"])
    func patternsThatMightMatchPass(_ pattern: String) {
        #expect(UnmatchedPatterns.reasonNeverMatches(Glob(pattern), servers: ["git", "crm", "a_"]) == nil)
    }
}
