// Command-line options of persona-fixture.

import PersonaShimExamples

/// How this fixture instance should behave; every misbehaviour a test needs is opt-in.
struct FixtureOptions {
    var name = "fixture"
    var generatedToolCount = 0
    var pageSize: Int?
    var extraToolNames: [String] = []
    var garbage = false
    var stderrChatter = false
    var crashOnStart = false
    var exitAfterInitialize = false
    var neverInitialize = false
    var ignoreSIGTERM = false
    var grandchildPIDFile: String?
    var pidFile: String?
    var listDelayMilliseconds = 0
    var protocolTools = false
    var resources = false
    var hostileTools = false
    var ignoreEOF = false
    var misbehavingTools = false
    var recordPath: String?
    var policyTools = false
    /// `--masking-tools`: tools whose answers carry planted card numbers, keys and e-mail addresses.
    var maskingTools = false
    /// `--blob-secrets`: the blob tool's text holds an e-mail address in every KiB (what masking must rewrite).
    var blobSecrets = false
    /// `--era modern`: speak only MCP 2026-07-28 (stateless; no initialize). See FixtureServer+Modern.swift.
    var modern = false

    static let usage = """
        usage: persona-fixture [options]

        A scriptable MCP server (stdio) for tests and benchmarks.

          --name NAME                serverInfo.name (default "fixture")
          --tools N                  also offer N generated tools tool_000, tool_001, ... (default 0)
          --page-size K              paginate tools/list, K tools per page
          --tool-names A,B,...       also offer echo-like tools with exactly these names
          --tool-name NAME           one more such tool (repeatable; for names containing commas)
          --garbage                  write a non-JSON line and an empty line before every response
          --stderr-chatter           write a stderr line for every message received
          --crash-on-start           exit(3) immediately
          --exit-after-initialize    answer initialize, then exit(4) on the next request
          --never-initialize         read everything, answer nothing
          --ignore-sigterm           ignore SIGTERM (only SIGKILL stops it)
          --spawn-grandchild PIDFILE start `/bin/sh -c 'sleep 1000'` in our process group; write its pid
          --pidfile PATH             write our own pid to PATH
          --list-delay MS            wait MS milliseconds before answering each tools/list
          --protocol-tools           also offer notify (progress/message floods) and ask (requests to the client)
          --resources                offer resources: memo://shared and memo://NAME (same URI on every fixture)
          --hostile-tools            also offer bad_utf8 (writes a line that is not valid UTF-8)
          --ignore-eof               keep running after stdin closes (only a signal stops it)
          --misbehaving-tools        also offer malformed, elicit_url, require_url_elicitation, sample_with_tools
                                     and flood_list_changed
          --record FILE              append every line received to FILE, byte for byte, before handling it
          --policy-tools             also offer read_file, fetch_url, read_customer, post_url, refund, unhinted, dirty
          --masking-tools            also offer leak_all, leak_strict, leak_error, send (planted secrets and personal data)
          --blob-secrets             blob's text holds an e-mail address in every KiB
          --era legacy|modern        the protocol era to speak (default legacy: the initialize handshake);
                                     modern speaks only 2026-07-28: server/discover, per-request _meta, no initialize

        persona-fixture reap PIDFILE COMMAND [ARG...]
          runs COMMAND as a child subreaper would (PR_SET_CHILD_SUBREAPER), writes its pid to PIDFILE, reaps every
          descendant that is reparented to it, and exits with COMMAND's status once no descendant is left

        Built-in tools: echo, blob, raw, slow, crash, fail, protocol_error, hang.
        """

    /// Parses `arguments` (without the program name); returns a message for the user on a usage error.
    static func parse(_ arguments: [String]) -> Result<FixtureOptions, UsageError> {
        var options = FixtureOptions()
        var remaining = arguments[...]
        func value(for option: String) throws(UsageError) -> String {
            guard let value = remaining.popFirst() else { throw UsageError(message: "\(option) needs a value") }
            return value
        }
        func count(for option: String, minimum: Int) throws(UsageError) -> Int {
            let text = try value(for: option)
            guard let number = Int(text), number >= minimum else {
                throw UsageError(message: "\(option) needs an integer >= \(minimum), not \"\(text)\"")
            }
            return number
        }
        do throws(UsageError) {
            while let option = remaining.popFirst() {
                switch option {
                case "--name": options.name = try value(for: option)
                case "--tools": options.generatedToolCount = try count(for: option, minimum: 0)
                case "--page-size": options.pageSize = try count(for: option, minimum: 1)
                case "--tool-names":
                    options.extraToolNames += try value(for: option)
                        .split(separator: ",", omittingEmptySubsequences: true).map(String.init)
                case "--tool-name": options.extraToolNames.append(try value(for: option))
                case "--garbage": options.garbage = true
                case "--stderr-chatter": options.stderrChatter = true
                case "--crash-on-start": options.crashOnStart = true
                case "--exit-after-initialize": options.exitAfterInitialize = true
                case "--never-initialize": options.neverInitialize = true
                case "--ignore-sigterm": options.ignoreSIGTERM = true
                case "--spawn-grandchild": options.grandchildPIDFile = try value(for: option)
                case "--pidfile": options.pidFile = try value(for: option)
                case "--list-delay": options.listDelayMilliseconds = try count(for: option, minimum: 0)
                case "--protocol-tools": options.protocolTools = true
                case "--resources": options.resources = true
                case "--hostile-tools": options.hostileTools = true
                case "--ignore-eof": options.ignoreEOF = true
                case "--misbehaving-tools": options.misbehavingTools = true
                case "--record": options.recordPath = try value(for: option)
                case "--policy-tools": options.policyTools = true
                case "--masking-tools": options.maskingTools = true
                case "--blob-secrets": options.blobSecrets = true
                case "--era":
                    let era = try value(for: option)
                    guard era == "legacy" || era == "modern" else {
                        throw UsageError(message: "--era needs legacy or modern, not \"\(era)\"")
                    }
                    options.modern = era == "modern"
                case "--help", "-h": throw UsageError(message: nil)
                default: throw UsageError(message: "unknown option \(option)")
                }
            }
        } catch {
            return .failure(error)
        }
        return .success(options)
    }
}

/// A command-line mistake; a nil message means help was asked for.
struct UsageError: Error {
    var message: String?
}
