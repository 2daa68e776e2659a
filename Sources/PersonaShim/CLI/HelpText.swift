/// Help texts, one per command.
enum HelpText {
    static let commands = [
        "run", "check", "tools", "digest", "demo", "approvals", "approve", "deny", "kill", "unkill", "help", "version",
    ]

    static let main = """
        persona-shim: enforce an agent persona between an AI agent and its MCP servers.

        USAGE
          persona-shim --persona FILE [--servers FILE] [--audit FILE] [--name NAME] [-- COMMAND ARGS...]
          persona-shim <command> [options]

        COMMANDS
          run       Serve MCP on stdin/stdout under a persona (the default when --persona is given)
          check     Validate a persona file and print compiler-style diagnostics
          tools     Start the persona's servers and show which tools the agent would see, and why
          digest    Print the argsDigest the audit trail records for given tool arguments
          demo      Play the canonical case: a support agent that tries to change billing
          approvals List the calls your running shims are waiting to have approved
          approve   Approve one such call, from a terminal (a one-time code is typed back)
          deny      Refuse one such call
          kill      Stop every call of a persona (or of every persona) in every running shim, at once
          unkill    Lift the kill switch
          help      Show help for a command
          version   Print the version

        Run 'persona-shim <command> --help' for a command's options.
        Logs go to stderr; set PERSONA_SHIM_LOG=debug for more.
        """

    static let run = """
        USAGE: persona-shim [run] --persona FILE [--servers FILE] [--audit FILE] [--name NAME] [-- COMMAND ARGS...]

        Serves MCP over stdin/stdout. Spawns the persona's servers, shows the agent only the tools the
        persona allows, checks every call again, and appends every decision to the audit trail.

        OPTIONS
          --persona FILE   The persona (JSON) to enforce. Required.
          --servers FILE   Also run the stdio servers of a client config (.mcp.json "mcpServers" or VS Code
                           "servers"); remote, disabled and persona-shim entries are skipped with a warning.
          --audit FILE     Write the audit trail here instead of the persona's "audit.path".
          --name NAME      Server name for a command given after -- (default: derived from the command,
                           launchers such as uvx or npx skipped: 'uvx mcp-server-git' is "git").
          -- COMMAND ARGS  Wrap this one server; its tools appear as NAME__tool.
          -h, --help       Show this help.

        EXAMPLE (an agent's MCP config)
          {"mcpServers": {"support": {"command": "persona-shim",
            "args": ["--persona", "/abs/path/support-reader.json"]}}}
        """

    static let check = """
        USAGE: persona-shim check FILE [--effective] [--servers FILE] [--name NAME] [-- COMMAND ARGS...]

        Validates a persona file with the same server options as run. Prints diagnostics as
        FILE:LINE:COLUMN: error: MESSAGE on stderr and a summary on stdout; warns about allow patterns
        that can never match. Exits 0 when the persona is usable, 1 when it has errors. Starts nothing.

        OPTIONS
          --effective      Print the effective persona instead of the summary: the file merged with every
                           file it extends, as one persona document without "extends" (stdout), and its
                           digest and files (stderr).
          --servers FILE   Check it together with the servers of a client config file.
          --name NAME      Server name for a command given after -- (default: derived from the command).
          -- COMMAND ARGS  Check it for this one wrapped server, as run would wrap it.
          -h, --help       Show this help.
        """

    static let kill = """
        USAGE: persona-shim kill [--machine] PERSONA|--all [--reason TEXT]
               persona-shim kill --status

        The kill switch. Every running shim of this user refuses the persona's tool calls, prompt requests and
        resource reads from the moment this returns (lists stay), with a sentence saying an operator stopped
        it, until 'persona-shim unkill'. Calls already sent to a server are not recalled. Each session audits
        when the switch takes effect (kill.engaged) and when it is lifted (kill.lifted). The switch is a file
        in $XDG_STATE_HOME/persona-shim/kill/ (else ~/.local/state/persona-shim/kill/), or with --machine in
        /var/lib/persona-shim/kill/, which stops the shims of every user (an administrator's).

        OPTIONS
          PERSONA          The persona's name (or a persona file, whose name is used).
          --all            Stop every persona.
          --machine        Stop it for every user of the machine (needs write access to /var/lib/persona-shim).
          --reason TEXT    Why; shown to the agent and recorded with who and when.
          --status         List what is stopped.
          -h, --help       Show this help.
        """

    static let unkill = """
        USAGE: persona-shim unkill [--machine] PERSONA|--all

        Lifts the kill switch of one persona, or the one for every persona (--all); running shims serve again
        at once. A persona stays stopped while '--all' (or the machine's switch) is on.

        OPTIONS
          --machine        Lift the machine's switch (set with 'kill --machine').
          -h, --help       Show this help.
        """

    static let tools = """
        USAGE: persona-shim tools FILE [--servers FILE] [--name NAME] [-- COMMAND ARGS...] [--json]

        Starts the persona's servers (as run would), lists their tools, and prints each tool the agent would
        see as visible or hidden with the rule that decided, the allow patterns that matched no tool, and the
        size of the tool list the agent sees against the unfiltered one. Exits 1 if a server fails to start.

        OPTIONS
          --servers FILE   Also list the servers of a client config file.
          --name NAME      Server name for a command given after -- (default: derived from the command).
          -- COMMAND ARGS  List this one wrapped server.
          --json           Print one JSON object instead of the table (for scripts).
          -h, --help       Show this help.
        """

    static let digest = """
        USAGE: persona-shim digest 'JSON'

        Prints the argsDigest the audit trail records for a call with these arguments ("sha256:" and the
        SHA-256 of their canonical form: keys sorted, no whitespace, numbers as written), so that a record
        can be matched to a call. Reads the JSON from stdin when it is "-".

        EXAMPLE
          persona-shim digest '{"query":"x"}'
        """

    static let demo = """
        USAGE: persona-shim demo [--persona FILE]

        Plays the canonical case from a fresh clone: an agent under the persona support-reader lists its
        tools, reads a ticket and a customer (allowed), then calls billing__adjust_balance by name anyway
        (refused). Prints each step and the audit records the session wrote. Exits 1 if the shim did not
        behave as the persona requires.

        OPTIONS
          --persona FILE   The persona to play (default: Personas/support-reader.json of this checkout).
          -h, --help       Show this help.
        """
}

extension HelpText {
    static let approvals = """
        USAGE: persona-shim approvals [--json]

        Lists the calls that running persona-shim sessions of your user are waiting to have approved out of
        band (personas with "approval": {"terminal": true}): id, persona, tool, the rule that asked, and
        the arguments (shortened; approve shows them whole).

        OPTIONS
          --json           Print {"questions": [...]} with each question as the approval command gets it.
          -h, --help       Show this help.
        """

    static let approve = """
        USAGE: persona-shim approve ID

        Shows the whole call (persona, server, tool, complete arguments, rule) on your terminal, with a
        one-time code, and approves it once you type the code back. It reads and writes only the
        terminal (/dev/tty), never stdin: it must be run by a person at a terminal, outside the agent's
        processes; the shim refuses, and audits, an approval from a process without a terminal or
        started by the agent. An unambiguous prefix of 8 or more characters may stand for the id.
        """

    static let deny = """
        USAGE: persona-shim deny ID

        Refuses the call waiting under ID at once. Needs no terminal: refusing can only stop a call.
        """
}

/// `persona-shim help [command]`.
enum HelpCommand {
    static func run(_ arguments: [String]) -> Int32 {
        switch arguments.first {
        case nil: print(HelpText.main)
        case "run": print(HelpText.run)
        case "check": print(HelpText.check)
        case "tools": print(HelpText.tools)
        case "digest": print(HelpText.digest)
        case "demo": print(HelpText.demo)
        case "approvals": print(HelpText.approvals)
        case "approve": print(HelpText.approve)
        case "deny": print(HelpText.deny)
        case "kill": print(HelpText.kill)
        case "unkill": print(HelpText.unkill)
        case "help", "version": print(HelpText.main)
        case let other?:
            return PersonaShimCLI.usageError(
                "no help for unknown command \"\(other)\""
                    + PersonaShimCLI.suggestion(for: other, in: HelpText.commands))
        }
        return PersonaShimCLI.ExitCode.success
    }
}
