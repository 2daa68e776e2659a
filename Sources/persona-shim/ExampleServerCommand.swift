import PersonaShim
import PersonaShimExamples

/// `persona-shim example-server NAME`: the bundled example MCP servers (crm, billing) used by the demo
/// and `Personas/support-reader.json`, so they work from a fresh clone with nothing else installed.
enum ExampleServerCommand {
    static func run(_ arguments: [String]) -> Int32 {
        guard let name = arguments.first else {
            return PersonaShimCLI.usageError(
                "example-server needs a name: " + ExampleServers.names.joined(separator: ", "))
        }
        guard ExampleServers.names.contains(name) else {
            return PersonaShimCLI.usageError(
                "unknown example server \"\(name)\"; the examples are " + ExampleServers.names.joined(separator: ", "))
        }
        return ExampleServers.run(name: name, arguments: Array(arguments.dropFirst()))
    }
}
