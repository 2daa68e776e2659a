// Entry point for the bundled example MCP servers (`persona-shim example-server NAME`).

/// The example MCP servers of the demo: a support-desk CRM and a billing system, each with in-memory data.
///
/// The demo story: a support agent summarises tickets; ticket T-1042 is a refund dispute from customer cus_1001, and
/// the agent must not touch billing. Each server speaks MCP over stdio (newline-delimited JSON-RPC 2.0), keeps its
/// state only for the life of the process and logs only to stderr.
public enum ExampleServers {
    /// Names of the bundled example servers ("crm", "billing").
    public static let names: [String] = ["crm", "billing"]

    /// Runs the named example server over stdin/stdout until EOF; returns the process exit code (64 for an unknown
    /// name, with a message on stderr).
    ///
    /// - Parameters:
    ///   - name: one of `names`.
    ///   - arguments: options after the name. `--log-to-stderr` logs each request as one stderr line; anything else
    ///     is a usage error (exit code 64).
    public static func run(name: String, arguments: [String]) -> Int32 {
        var logCalls = false
        for argument in arguments {
            switch argument {
            case "--log-to-stderr":
                logCalls = true
            default:
                StdioIO.log("example-server \(name): unknown option \(argument) (supported: --log-to-stderr)")
                return 64
            }
        }
        switch name {
        case "crm":
            let crm = CRMServer()
            return ExampleStdioServer(
                name: "example-crm", version: version,
                instructions: "Support-desk CRM: search and read tickets and customers, and leave internal notes.",
                tools: CRMServer.tools, logCalls: logCalls, handler: crm.call
            ).run()
        case "billing":
            let billing = BillingServer()
            return ExampleStdioServer(
                name: "example-billing", version: version,
                instructions: "Billing system: read invoices; adjust balances and issue refunds (these move money).",
                tools: BillingServer.tools, logCalls: logCalls, handler: billing.call
            ).run()
        default:
            StdioIO.log("example-server: unknown server \"\(name)\" (available: \(names.joined(separator: ", ")))")
            return 64
        }
    }

    static let version = "1.0.0"
}
