// swift-tools-version: 6.1
import PackageDescription

// Herald: Kafka events in, Microsoft Teams proactive messages out.
// One library target per concern; the `herald` executable is thin on top.

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")

// MARK: - Kafka (librdkafka binding)

let kafkaTargets: [Target] = [
    .systemLibrary(
        name: "CRdKafka",
        pkgConfig: "rdkafka",
        providers: [.apt(["librdkafka-dev"])]
    ),
    .target(name: "Kafka", dependencies: ["CRdKafka", logging]),
    .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
]

// MARK: - Configuration and routing (pure code: events in, delivery plans out)

let yams: Target.Dependency = .product(name: "Yams", package: "Yams")

let routingTargets: [Target] = [
    .target(name: "HeraldConfig", dependencies: [yams]),
    .target(name: "Routing", dependencies: ["HeraldConfig", yams]),
    .testTarget(name: "HeraldConfigTests", dependencies: ["HeraldConfig"]),
    .testTarget(name: "RoutingTests", dependencies: ["Routing", "HeraldConfig", yams]),
]

// MARK: - The executable

let executableTargets: [Target] = [
    .executableTarget(
        name: "herald",
        dependencies: [
            "Kafka",
            "HeraldConfig",
            "Routing",
            argumentParser,
            logging,
        ]
    ),
    .testTarget(
        name: "EndToEndTests",
        dependencies: ["Kafka", logging],
        // Drives the real `herald` binary, which `swift build --build-tests` builds alongside.
    ),
]

let package = Package(
    name: "herald",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "herald", targets: ["herald"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: kafkaTargets + routingTargets + executableTargets,
    swiftLanguageModes: [.v6]
)
