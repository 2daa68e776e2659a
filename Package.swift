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
        // Everything that differs between operating systems, so that a port is this one folder's work: the C library
        // and the C shim re-exported, and the Linux-only calls behind Swift names.
        .target(name: "CPersonaShim", path: "Sources/Platform/CPersonaShim"),
        .target(name: "Platform", dependencies: ["CPersonaShim"], path: "Sources/Platform/Swift"),
        .target(name: "MCPWire", dependencies: ["Platform"]),
        .target(name: "PersonaShimExamples", dependencies: ["MCPWire", "Platform"]),
        .target(name: "PersonaShim", dependencies: ["MCPWire", "Platform"]),
        .executableTarget(
            name: "persona-shim", dependencies: ["PersonaShim", "PersonaShimExamples"], linkerSettings: staticStdlib),
        .executableTarget(
            name: "persona-fixture", dependencies: ["MCPWire", "PersonaShimExamples", "Platform"], linkerSettings: staticStdlib),
        .executableTarget(name: "persona-relay", dependencies: ["Platform"], linkerSettings: staticStdlib),
        // The benchmark runs the three executables built next to it; depending on them makes `swift run` build them.
        .executableTarget(
            name: "persona-bench",
            dependencies: ["MCPWire", "PersonaShim", "Platform", "persona-shim", "persona-fixture", "persona-relay"]),
        .testTarget(name: "PersonaShimTests", dependencies: ["PersonaShim"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PersonaShim"]),
    ],
    swiftLanguageModes: [.v6]
)
