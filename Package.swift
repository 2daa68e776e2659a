// swift-tools-version: 6.0
import PackageDescription

/// The Swift runtime linked in: the binary starts without loading a dozen shared libraries (a few milliseconds per
/// process) and runs on a machine without the Swift toolchain.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux]))]

/// The wire code is the shim's hot path; these let the other targets of the package inline and specialise its
/// `package` functions as they did when it was part of the library (without them a call across the module boundary
/// is an opaque call, and a generic one is not specialised).
let crossModule: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))
]

let package = Package(
    name: "persona-shim",
    products: [
        .executable(name: "persona-shim", targets: ["persona-shim"]),
        .library(name: "PersonaShim", targets: ["PersonaShim"]),
    ],
    targets: [
        .target(name: "CPersonaShim"),
        // SystemError names errno values with a C helper, so the line reader's read and write errors read as before.
        .target(name: "MCPWire", dependencies: ["CPersonaShim"], swiftSettings: crossModule),
        .target(name: "PersonaShimExamples", dependencies: ["MCPWire"]),
        .target(name: "PersonaShim", dependencies: ["CPersonaShim", "MCPWire"]),
        .executableTarget(
            name: "persona-shim", dependencies: ["PersonaShim", "PersonaShimExamples"], linkerSettings: staticStdlib),
        .executableTarget(
            name: "persona-fixture", dependencies: ["MCPWire", "PersonaShimExamples"], linkerSettings: staticStdlib),
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
