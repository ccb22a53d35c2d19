import ArgumentParser
import Engine
import Foundation
import HeraldBenchmarks
import Store

/// `herald store migrate|bench`, plus helpers the test suite drives as a second process.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Manage the state store (SQLite or PostgreSQL).",
        subcommands: [Migrate.self, Bench.self, Claim.self, WriteLoop.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply schema migrations (workers also do this at start-up; safe to run concurrently).")
        @OptionGroup var store: StoreSelection

        func run() async throws {
            let url = try store.url()
            let logger = store.logging.makeLogger("herald.store")
            let version = try await withStore(url: url, logger: logger, migrate: false) { try await $0.migrate() }
            print("\(StoreURL.redact(url)): schema at version \(version)")
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure claims + state updates per second with many deliveries in flight.",
            discussion: """
                Each delivery is claimed, marked sent and marked outcome-published through the batching ledger, \
                --in-flight at a time. Without --store/--config it uses a new SQLite file in a temporary folder.
                """)

        @Option(help: "Deliveries per run.")
        var deliveries = 20_000

        @Option(name: .customLong("in-flight"), help: "Deliveries in progress at once.")
        var inFlight = 1000

        @Option(help: "Number of runs.")
        var runs = 3

        @Flag(help: "Print one JSON object instead of a table.")
        var json = false

        @OptionGroup var store: StoreSelection

        func validate() throws {
            guard deliveries >= 1, inFlight >= 1, runs >= 1 else {
                throw ValidationError("--deliveries, --in-flight and --runs must be at least 1")
            }
        }

        func run() async throws {
            var temporary: URL?
            let url: String
            if store.storeURL == nil, store.config == nil,
                ProcessInfo.processInfo.environment["HERALD_STORE_URL"] == nil
            {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "herald-bench-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                temporary = folder
                url = "sqlite://\(folder.path)/bench.db"
            } else {
                url = try store.url()
            }
            defer { temporary.map { try? FileManager.default.removeItem(at: $0) } }
            let backend = url.hasPrefix("sqlite") ? "sqlite" : "postgres"
            let benchmark = StoreBenchmark(deliveries: deliveries, inFlight: inFlight)
            let runs = self.runs
            let results = try await withStore(url: url, logger: store.logging.makeLogger("herald.bench")) { store in
                var results: [StoreBenchmark.Result] = []
                for _ in 0..<runs { results.append(try await benchmark.run(store: store, backend: backend)) }
                return results
            }
            if results.contains(where: { $0.notClaimed > 0 }) {
                throw StoreCommandError("some fresh deliveries were not claimed")
            }
            let best = results.map(\.deliveriesPerSecond).max() ?? 0
            if json {
                let object: [String: Any] = [
                    "scenario": "store", "backend": backend, "deliveries": deliveries, "inFlight": inFlight,
                    "runs": results.map { ["seconds": $0.seconds, "deliveriesPerSecond": $0.deliveriesPerSecond] },
                    "bestDeliveriesPerSecond": best,
                ]
                print(
                    String(
                        decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                        as: UTF8.self))
                return
            }
            print("store benchmark: \(StoreURL.redact(url)), \(deliveries) deliveries, \(inFlight) in flight")
            print(
                Table.render(
                    ["RUN", "SECONDS", "DELIVERIES/S", "STORE OPS/S"],
                    results.enumerated().map {
                        [
                            "\($0.offset + 1)", String(format: "%.2f", $0.element.seconds),
                            String(format: "%.0f", $0.element.deliveriesPerSecond),
                            String(format: "%.0f", $0.element.operationsPerSecond),
                        ]
                    }))
        }
    }

    /// Test helper: claims ids `PREFIX-0 ..< PREFIX-COUNT` as one worker and prints each id it got.
    struct Claim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Claim deliveries PREFIX-0..<COUNT concurrently and print the ids claimed (test helper).",
            shouldDisplay: false)

        @Option var worker: String
        @Option var prefix: String
        @Option var count: Int
        @OptionGroup var store: StoreSelection

        func run() async throws {
            let (worker, prefix, count) = (self.worker, self.prefix, self.count)
            let claimed = try await store.withStore("herald.store") { store in
                let ledger = DeliveryLedger(store: store, worker: worker, lease: .seconds(600), maxBatchSize: 64)
                return try await withThrowingTaskGroup(of: String?.self) { group in
                    for i in 0..<count {
                        group.addTask { try await ledger.claim("\(prefix)-\(i)") == .claimed ? "\(prefix)-\(i)" : nil }
                    }
                    var claimed: [String] = []
                    for try await id in group { if let id { claimed.append(id) } }
                    return claimed
                }
            }
            print(claimed.joined(separator: "\n"))
            print("done \(claimed.count)")
        }
    }

    /// Test helper: writes one reference and one sent delivery at a time, printing `ack N` once each is
    /// committed, until killed or `--count` are done.
    struct WriteLoop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write-loop", abstract: "Write and acknowledge one record at a time (test helper).",
            shouldDisplay: false)

        @Option var prefix: String
        @Option var count: Int
        @OptionGroup var store: StoreSelection

        func run() async throws {
            let (prefix, count) = (self.prefix, self.count)
            try await store.withStore("herald.store") { store in
                for i in 0..<count {
                    let id = "\(prefix)-\(i)"
                    try await store.upsertReferences([
                        ConversationReference(
                            key: id, conversationId: "a:\(id)", serviceUrl: "https://smba.example/", tenantId: "t",
                            scope: .personal)
                    ])
                    try await store.markSent(
                        [
                            SentDelivery(
                                deliveryId: id, activityId: "act-\(i)", conversationId: "a:\(id)", serviceUrl: nil,
                                attempts: 1)
                        ],
                        now: Date())
                    FileHandle.standardOutput.write(Data("ack \(i)\n".utf8))
                }
            }
        }
    }
}
