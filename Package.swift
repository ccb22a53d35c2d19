// swift-tools-version: 6.1
import PackageDescription

// Herald: Kafka events in, Microsoft Teams proactive messages out.
// One library target per concern; the `herald` executable is thin on top.

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let dequeModule: Target.Dependency = .product(name: "DequeModule", package: "swift-collections")
let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")

// MARK: - Child processes, awaited without blocking a thread (kcat in benchmarks, the binary in tests)

let childProcessTargets: [Target] = [
    .target(name: "ChildProcess"),
    // Helpers the test targets share: waiting with deadlines, a PostgreSQL server of a test's own.
    .target(name: "TestSupport", dependencies: ["ChildProcess"], path: "Tests/TestSupport"),
]

// MARK: - Kafka (librdkafka binding)

let kafkaTargets: [Target] = [
    .systemLibrary(
        name: "CRdKafka",
        pkgConfig: "rdkafka",
        providers: [.apt(["librdkafka-dev"])]
    ),
    .target(name: "Kafka", dependencies: ["CRdKafka", dequeModule, logging]),
    .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"]),
]

// MARK: - Configuration and routing (pure code: events in, delivery plans out)

let yams: Target.Dependency = .product(name: "Yams", package: "Yams")

let routingTargets: [Target] = [
    // Herald's JSON: the parser event records are read with, the value model, paths into it, and the one writer
    // every body, card, outcome and log line is written with (strings always escaped).
    .target(name: "HeraldJSON"),
    .target(name: "HeraldConfig", dependencies: [yams]),
    .target(name: "Routing", dependencies: ["HeraldJSON", "HeraldConfig", yams]),
    .testTarget(name: "HeraldConfigTests", dependencies: ["HeraldConfig"]),
    .testTarget(
        name: "RoutingTests",
        dependencies: [
            "Routing", "HeraldJSON", "HeraldConfig", "HeraldBenchmarks", "ChildProcess", "TestSupport", yams,
        ]),
]

// MARK: - Teams (HTTP server, Bot Connector client, Teams emulator)

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioFoundation: Target.Dependency = .product(name: "NIOFoundationCompat", package: "swift-nio")
let nioExtras: Target.Dependency = .product(name: "NIOExtras", package: "swift-nio-extras")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let jwtKit: Target.Dependency = .product(name: "JWTKit", package: "jwt-kit")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")

let teamsTargets: [Target] = [
    .target(name: "RateLimiting", dependencies: [dequeModule]),
    .testTarget(name: "RateLimitingTests", dependencies: ["RateLimiting", "TestSupport"]),
    .target(name: "HeraldHTTP", dependencies: [nioCore, nioPosix, nioHTTP1, nioExtras, serviceLifecycle, logging]),
    .target(
        name: "BotConnector",
        dependencies: ["HeraldJSON", nioCore, nioHTTP1, nioFoundation, asyncHTTPClient, coreMetrics, logging]
    ),
    .target(
        name: "TeamsEmulator",
        dependencies: [
            "HeraldHTTP", "RateLimiting", jwtKit, asyncHTTPClient, nioCore, nioHTTP1, nioFoundation, dequeModule,
            serviceLifecycle, logging,
        ]
    ),
    .executableTarget(
        name: "emulator-load",
        dependencies: ["BotConnector", "TeamsEmulator", argumentParser, logging],
        path: "Sources/emulator-load"
    ),
    .testTarget(name: "HeraldHTTPTests", dependencies: ["HeraldHTTP", nioCore, nioPosix, nioHTTP1, logging]),
    .testTarget(
        name: "BotConnectorTests",
        dependencies: ["BotConnector", "TeamsEmulator", "HeraldHTTP", nioCore, nioPosix, logging]
    ),
    .testTarget(
        name: "TeamsEmulatorTests",
        dependencies: [
            "TeamsEmulator", "HeraldHTTP", "ChildProcess", "RateLimiting", jwtKit, asyncHTTPClient, nioCore,
            nioHTTP1, nioFoundation, logging,
        ]
    ),
]

// MARK: - State (conversation references, delivery ledger, opt-outs, deferrals: SQLite and PostgreSQL)

let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")

let storeTargets: [Target] = [
    .systemLibrary(
        name: "CSQLite",
        pkgConfig: "sqlite3",
        providers: [.apt(["libsqlite3-dev"])]
    ),
    .target(name: "Store", dependencies: ["CSQLite", "Kafka", postgresNIO, serviceLifecycle, metrics, logging]),
    .testTarget(
        name: "StoreTests",
        // Engine and HeraldBenchmarks: the batched ledger and lookups, and the store benchmark, on both backends.
        dependencies: [
            "Store", "Engine", "HeraldBenchmarks", "Kafka", "ChildProcess", "TestSupport", serviceLifecycle, logging,
        ]
    ),
]

// MARK: - The delivery engine

let engineTargets: [Target] = [
    .target(
        name: "Engine",
        dependencies: [
            "RateLimiting", "Kafka", "Routing", "HeraldConfig", "BotConnector", "Store", dequeModule, metrics,
            serviceLifecycle, logging,
        ],
        exclude: ["README.md"]
    ),
    .testTarget(
        name: "EngineTests",
        dependencies: [
            "Engine", "HeraldConfig", "RateLimiting", "Routing", "Kafka", "Store", "BotConnector", "TeamsEmulator",
            "TestSupport", serviceLifecycle,
            .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"), logging,
        ]
    ),
]

// MARK: - The gateway: the bot's messaging endpoint (what Teams sends the bot, authenticated)

let gatewayTargets: [Target] = [
    .target(
        name: "Gateway",
        dependencies: [
            "HeraldHTTP", "Kafka", "BotConnector", "HeraldConfig", "HeraldJSON", "Store", "Routing", "RateLimiting",
            jwtKit, crypto, asyncHTTPClient, nioCore, nioHTTP1, nioFoundation, serviceLifecycle, metrics, logging,
        ]
    ),
    // A gateway with Kafka, a store and the emulator around it, for the gateway's tests and the end-to-end ones.
    .target(
        name: "GatewayTestSupport",
        dependencies: [
            "Gateway", "TeamsEmulator", "HeraldConfig", "Kafka", "Store", "TestSupport", "ChildProcess", "BotConnector",
            asyncHTTPClient, nioCore, nioHTTP1, logging,
        ],
        path: "Tests/GatewayTestSupport"
    ),
    .testTarget(
        name: "GatewayTests",
        dependencies: [
            "Gateway", "GatewayTestSupport", "TeamsEmulator", "HeraldHTTP", "HeraldConfig", "BotConnector", "Kafka",
            "Store", "TestSupport", "ChildProcess", jwtKit, asyncHTTPClient, nioHTTP1, nioCore, logging,
        ]
    ),
]

// MARK: - Benchmarks (`herald bench`, `herald store bench`): not part of the delivery path

let benchmarkTargets: [Target] = [
    .target(
        name: "HeraldBenchmarks",
        dependencies: [
            "Routing", "HeraldJSON", "HeraldConfig", "Store", "Engine", "Kafka", "BotConnector", "TeamsEmulator",
            "RateLimiting", "ChildProcess", asyncHTTPClient, nioCore, logging,
        ])
]

// MARK: - The demo's data set (`herald demo`): users, teams, events and clicks made up for the emulator

let demoTargets: [Target] = [
    .target(name: "HeraldDemo", dependencies: ["Kafka", "Store", "TeamsEmulator"]),
    .testTarget(name: "HeraldDemoTests", dependencies: ["HeraldDemo", "TeamsEmulator"]),
]

// MARK: - Fuzzing: the checks every parser of outside bytes must pass (scripts/fuzz.sh), and their replay in the suite

let fuzzTargets: [Target] = [
    .target(
        name: "FuzzChecks",
        dependencies: ["HeraldJSON", "HeraldConfig", "Routing", "BotConnector", "Store", "Gateway", jwtKit, nioHTTP1],
        path: "Fuzz/Checks"),
    .executableTarget(name: "herald-fuzz", dependencies: ["FuzzChecks"], path: "Fuzz/Driver"),
    .testTarget(name: "FuzzChecksTests", dependencies: ["FuzzChecks"], path: "Fuzz/Tests"),
]

// MARK: - The executable

let executableTargets: [Target] = [
    .executableTarget(
        name: "herald",
        dependencies: [
            "Kafka",
            "HeraldConfig",
            "HeraldJSON",
            "Routing",
            "HeraldHTTP",
            "BotConnector",
            "TeamsEmulator",
            "ChildProcess",
            "Store",
            "Engine",
            "Gateway",
            "RateLimiting",
            "HeraldBenchmarks",
            "HeraldDemo",
            asyncHTTPClient,
            serviceLifecycle,
            argumentParser,
            coreMetrics,
            prometheus,
            logging,
        ]
    ),
    .testTarget(
        name: "EndToEndTests",
        dependencies: [
            "Kafka", "ChildProcess", "TeamsEmulator", "TestSupport", "GatewayTestSupport", asyncHTTPClient, nioCore,
            nioHTTP1, logging,
        ],
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
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: childProcessTargets + kafkaTargets + routingTargets + teamsTargets + storeTargets + engineTargets
        + gatewayTargets + benchmarkTargets + demoTargets + fuzzTargets + executableTargets,
    swiftLanguageModes: [.v6]
)
