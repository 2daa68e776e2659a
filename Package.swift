// swift-tools-version: 6.0
import PackageDescription

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
        .executableTarget(name: "persona-shim", dependencies: ["PersonaShim"]),
        .executableTarget(name: "persona-fixture", dependencies: ["PersonaShimExamples"]),
        .executableTarget(name: "persona-relay"),
        // The benchmark runs the three executables built next to it; depending on them makes `swift run` build them.
        .executableTarget(
            name: "persona-bench", dependencies: ["PersonaShim", "persona-shim", "persona-fixture", "persona-relay"]),
        .testTarget(name: "PersonaShimTests", dependencies: ["PersonaShim"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PersonaShim"]),
    ],
    swiftLanguageModes: [.v6]
)
