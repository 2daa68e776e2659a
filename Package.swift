// swift-tools-version: 6.0
import PackageDescription

/// The Swift runtime linked in: the binary starts without loading a dozen shared libraries (a few milliseconds per
/// process) and runs on a machine without the Swift toolchain.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux]))]

let package = Package(
    name: "persona-shim",
    products: [
        .executable(name: "persona-shim", targets: ["persona-shim"]),
        .library(name: "PersonaShim", targets: ["PersonaShim"]),
    ],
    targets: [
        .target(name: "CPersonaShim"),
        // SystemError names errno values with a C helper, so the line reader's read and write errors read as before.
        .target(name: "MCPWire", dependencies: ["CPersonaShim"]),
        .target(name: "PersonaShimExamples", dependencies: ["MCPWire"]),
        .target(name: "PersonaShim", dependencies: ["CPersonaShim", "MCPWire"]),
        .executableTarget(
            name: "persona-shim", dependencies: ["PersonaShim", "PersonaShimExamples"], linkerSettings: staticStdlib),
        .executableTarget(
            name: "persona-fixture", dependencies: ["CPersonaShim", "MCPWire", "PersonaShimExamples"], linkerSettings: staticStdlib),
        .executableTarget(name: "persona-relay", linkerSettings: staticStdlib),
        // The benchmark runs the three executables built next to it; depending on them makes `swift run` build them.
        .executableTarget(
            name: "persona-bench",
            dependencies: ["MCPWire", "PersonaShim", "persona-shim", "persona-fixture", "persona-relay"]),
        .testTarget(name: "PersonaShimTests", dependencies: ["PersonaShim"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PersonaShim"]),
    ],
    swiftLanguageModes: [.v6]
)
