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
        .target(name: "PersonaShimExamples"),
        .target(name: "PersonaShim", dependencies: ["CPersonaShim", "PersonaShimExamples"]),
        .executableTarget(name: "persona-shim", dependencies: ["PersonaShim"], linkerSettings: staticStdlib),
        .executableTarget(
            name: "persona-fixture", dependencies: ["CPersonaShim", "PersonaShimExamples"], linkerSettings: staticStdlib
        ),
        .executableTarget(name: "persona-relay", linkerSettings: staticStdlib),
        // The benchmark runs the three executables built next to it; depending on them makes `swift run` build them.
        .executableTarget(
            name: "persona-bench", dependencies: ["PersonaShim", "persona-shim", "persona-fixture", "persona-relay"]),
        .testTarget(name: "PersonaShimTests", dependencies: ["PersonaShim"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PersonaShim"]),
    ],
    swiftLanguageModes: [.v6]
)
