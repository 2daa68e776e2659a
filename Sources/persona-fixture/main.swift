// persona-fixture: a scriptable MCP server over stdio for persona-shim's tests and benchmarks.
//
// Run `persona-fixture --help` for the options. Logs go to stderr only; stdout carries nothing but JSON-RPC lines
// (and, with --garbage, deliberate junk).

import PersonaShimExamples
import Platform

if CommandLine.arguments.count > 3 && CommandLine.arguments[1] == "reap" {
    exit(reapDescendants(pidFile: CommandLine.arguments[2], command: Array(CommandLine.arguments.dropFirst(3))))
}

let options: FixtureOptions
switch FixtureOptions.parse(Array(CommandLine.arguments.dropFirst())) {
case let .success(parsed):
    options = parsed
case let .failure(error):
    if let message = error.message {
        StdioIO.log("persona-fixture: \(message)\n\n\(FixtureOptions.usage)")
        exit(64)
    }
    print(FixtureOptions.usage)
    exit(0)
}

if options.crashOnStart { exit(3) }
StdioIO.ignoreSIGPIPE()
if options.ignoreSIGTERM { signal(SIGTERM, SIG_IGN) }
if let path = options.pidFile, !writePIDFile(path, pid: getpid()) { exit(1) }
if let path = options.grandchildPIDFile {
    guard let child = spawnGrandchild() else { exit(1) }
    if !writePIDFile(path, pid: child) { exit(1) }
}
let status = FixtureServer(options: options).run()
while options.ignoreEOF { pause() }
exit(status)
