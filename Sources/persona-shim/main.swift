import PersonaShim
import PersonaShimExamples
import Platform

// The example servers are dispatched here, not by the library, so that the library does not depend on them.
let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == "example-server" {
    exit(ExampleServerCommand.run(Array(arguments.dropFirst(2))))
}
exit(PersonaShimCLI.main(arguments))
