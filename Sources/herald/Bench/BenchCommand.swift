import ArgumentParser
import Foundation
import HeraldBenchmarks
import Kafka
import Routing

/// `herald bench SCENARIO`: Herald's benchmark scenarios.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark scenario and print its results.",
        discussion: """
            Scenarios:
              kafka-relay       consume → produce → commit through the Kafka binding on the embedded cluster,
                                compared with kcat reading the same topic (the same librdkafka, in C).
              throughput        100,000 events to 20,000 users with stored references, emulator limits off,
                                and the emulator's raw HTTP rate on this machine for comparison.
              fanout            one tenant, 5,000 users, one message each, limits scaled:4: makespan vs the
                                minimum the tenant budget allows.
              hot-conversation  600 messages to one conversation, limits scaled:10: makespan vs the minimum the
                                thread windows allow.
              multi-tenant      50 tenants x 200 users, two messages each, Teams' limits: rate vs the summed budgets.
              scale-out         throughput and multi-tenant with 1 and 3 workers on PostgreSQL (--store).
              event-path        the per-event CPU path on one thread: decode, route, render, encode outcomes
                                (--messages events; a micro-benchmark, no processes or network).
              digest-burst      10,000 events to one team channel at Teams' limits, without a digest (stopped after
                                --measure-seconds; the rest projected at the measured rate) and with a batch digest
                                route of 25: makespan and Teams messages.
              backlog           throughput's load with 100,000 and then 1,000,000 events queued before the
                                worker starts (--deliveries sets the smaller; the larger is ten times it): peak
                                memory must follow the rate, not the backlog (sampled every --sample-seconds).
              soak              --soak-rate events per second (default 1,000) to 2,000 users for --soak-minutes
                                (default 30), the worker's memory sampled every --sample-seconds: its slope.
              compare           60,000 events to 2,000 users with stored references, emulator limits off: Herald,
                                then --peer COMMAND (another worker, run with /bin/sh) on the same setup, side by
                                side (BENCHMARKS.md, "Comparing with another worker", says what a peer is given).
              gateway           authenticated installs through herald gateway from --clients connections
                                (--messages activities): unpaced, then paced at --rate per second.
            The delivery scenarios run the emulator and the workers as separate processes; --deliveries scales them.
            """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case kafkaRelay = "kafka-relay"
        case throughput
        case fanout
        case hotConversation = "hot-conversation"
        case multiTenant = "multi-tenant"
        case scaleOut = "scale-out"
        case eventPath = "event-path"
        case gateway
        case digestBurst = "digest-burst"
        case backlog
        case soak
        case compare
    }

    @Argument(help: "The scenario to run: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario: Scenario

    @Option(help: "Records to move (kafka-relay), events to process (event-path).")
    var messages = 100_000

    @Option(help: "Record size in bytes (kafka-relay).")
    var size = 500

    @Option(name: .customLong("property"), help: "A librdkafka property NAME=VALUE for Herald's clients (repeatable).")
    var properties: [String] = []

    @Flag(help: "Do not run kcat for comparison.")
    var skipKcat = false

    @Option(help: "Deliveries per run of a delivery scenario (default: the scenario's size).")
    var deliveries: Int?

    @Option(help: "digest-burst: how long the run without a digest is measured before it is stopped.")
    var measureSeconds = 120

    @Option(
        name: .customLong("store"), help: "Store URL for the workers (scale-out needs postgres://...). Default: SQLite."
    )
    var storeURL: String?

    @Option(name: .customLong("raw-seconds"), help: "Seconds of raw HTTP load on the emulator (throughput).")
    var rawSeconds = 5

    @Option(help: "soak: events published per second.")
    var soakRate = 1_000

    @Option(help: "soak: minutes of publishing at --soak-rate (fractions allowed).")
    var soakMinutes = 30.0

    @Option(help: "soak: seconds between samples of the worker's resident memory.")
    var sampleSeconds = 60

    @Option(help: "compare: the other worker's command line, run with /bin/sh (its environment says where things are).")
    var peer: String?

    @Option(help: "Concurrent clients (gateway).")
    var clients = 64

    @Option(help: "Activities per second of the paced run (gateway).")
    var rate = 500

    @Flag(help: "Print JSON (one object per run) instead of a table.")
    var json = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard properties.allSatisfy({ $0.contains("=") }) else { throw ValidationError("--property takes NAME=VALUE") }
        guard messages > 0 else { throw ValidationError("--messages must be positive") }
        guard clients > 0, rate > 0 else { throw ValidationError("--clients and --rate must be positive") }
        guard soakRate > 0, soakMinutes > 0, sampleSeconds > 0 else {
            throw ValidationError("--soak-rate, --soak-minutes and --sample-seconds must be positive")
        }
        if let deliveries, deliveries < 1 { throw ValidationError("--deliveries must be positive") }
        if scenario == .compare, (peer ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("compare needs the other worker's command: --peer COMMAND")
        }
        if scenario == .scaleOut, !(storeURL ?? "").hasPrefix("postgres") {
            throw ValidationError("scale-out needs a shared store: --store postgres://user:pass@host/db")
        }
        guard (1...1_000_000).contains(size) else { throw ValidationError("--size must be between 1 and 1000000") }
    }

    func run() async throws {
        switch scenario {
        case .kafkaRelay:
            var librdkafka: [String: String] = [:]
            for property in properties {
                let parts = property.split(separator: "=", maxSplits: 1)
                librdkafka[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            let scenario = KafkaRelayScenario(
                messages: messages, size: size, runKcat: !skipKcat, properties: librdkafka,
                logger: logging.makeLogger("herald.bench")
            )
            let result = try await scenario.run()
            print(json ? result.json : result.table)
        case .eventPath:
            let result = try RoutingBenchmark.run(iterations: messages)
            if json {
                let object: [String: Any] = [
                    "scenario": "event-path", "events": result.iterations,
                    "wallMicrosecondsPerEvent": result.nanosecondsPerEvent / 1000,
                    "cpuMicrosecondsPerEvent": result.cpuNanosecondsPerEvent / 1000,
                    "decodeCpuMicrosecondsPerEvent": result.decodeCPUNanosecondsPerEvent / 1000,
                    "encodeCpuMicrosecondsPerEvent": result.encodeCPUNanosecondsPerEvent / 1000,
                    "deliveriesPerEvent": result.deliveriesPerEvent, "cardBytes": result.cardBytes,
                    "outcomeBytes": result.outcomeBytes,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("event-path  \(result)")
            }
        case .gateway:
            let scenario = GatewayScenario(
                activities: messages == 100_000 ? 20_000 : messages, clients: clients, rate: rate,
                logger: logging.makeLogger("herald.bench"))
            for result in try await scenario.run() {
                if json {
                    let data = try JSONSerialization.data(withJSONObject: result.object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(result.row)
                }
            }
        default:
            var results: [DeliveryScenario.Result] = []
            for plan in plans() {
                let result = try await DeliveryScenario(
                    plan: plan, storeURL: storeURL, logger: logging.makeLogger("herald.bench")
                ).run()
                results.append(result)
                if json {
                    let data = try JSONSerialization.data(withJSONObject: result.object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(result.row)
                }
            }
            if scenario == .compare, !json, results.count == 2 {
                print(DeliveryScenario.Result.comparison(herald: results[0], peer: results[1]))
            }
        }
    }

    /// The runs of a delivery scenario at its default size, or scaled to `--deliveries`.
    func plans() -> [DeliveryScenario.Plan] {
        func sized(_ base: Int, users: Int) -> (Int, Int) {
            guard let deliveries else { return (base, users) }
            return (deliveries, max(1, users * deliveries / base))
        }
        let (throughputCount, throughputUsers) = sized(100_000, users: 20_000)
        var throughput = DeliveryScenario.Plan(
            name: "throughput", deliveries: throughputCount, users: throughputUsers, tenants: 100, limits: "off")
        throughput.rawCeilingSeconds = rawSeconds
        let (fanoutCount, _) = sized(5_000, users: 5_000)
        let fanout = DeliveryScenario.Plan(
            name: "fanout", deliveries: fanoutCount, users: fanoutCount, tenants: 1, limits: "scaled:4")
        let (hotCount, _) = sized(600, users: 1)
        let hot = DeliveryScenario.Plan(
            name: "hot-conversation", deliveries: hotCount, users: 1, tenants: 1, limits: "scaled:10")
        let (multiCount, multiUsers) = sized(20_000, users: 10_000)
        let multi = DeliveryScenario.Plan(
            name: "multi-tenant", deliveries: multiCount, users: multiUsers, tenants: min(50, multiUsers),
            limits: "teams")
        let (burstCount, _) = sized(10_000, users: 1)
        var undigested = DeliveryScenario.Plan(
            name: "digest-burst/none", deliveries: burstCount, users: 1, tenants: 1, limits: "teams")
        undigested.oneChannel = true
        undigested.measureFor = .seconds(measureSeconds)
        var digested = undigested
        digested.name = "digest-burst/batch-25"
        digested.digestMaxItems = 25
        digested.measureFor = nil
        // The same partitions for both sizes: only the backlog differs.
        let backlogSizes = [throughputCount, throughputCount * 10]
        let backlog = backlogSizes.map { count in
            var plan = DeliveryScenario.Plan(
                name: "backlog/\(count)", deliveries: count, users: throughputUsers, tenants: 100, limits: "off")
            plan.eventPartitions = 128
            plan.outcomePartitions = 256
            // The curve, not only the peak: a climb through the run is growth, a step is a queue reaching its bound.
            plan.sampleRssEvery = .seconds(sampleSeconds)
            return plan
        }
        var soak = DeliveryScenario.Plan(
            name: "soak", deliveries: max(1, Int(Double(soakRate) * soakMinutes * 60)), users: 2_000, tenants: 20,
            limits: "off")
        soak.publishRate = soakRate
        soak.sampleRssEvery = .seconds(sampleSeconds)
        soak.eventPartitions = 32
        soak.outcomePartitions = 64
        var compared = DeliveryScenario.Plan(
            name: "compare/herald", deliveries: sized(60_000, users: 2_000).0, users: sized(60_000, users: 2_000).1,
            tenants: 20, limits: "off")
        var peerPlan = compared
        peerPlan.name = "compare/peer"
        peerPlan.peer = peer
        compared.peer = nil
        switch scenario {
        case .compare: return [compared, peerPlan]
        case .backlog: return backlog
        case .soak: return [soak]
        case .digestBurst: return [undigested, digested]
        case .kafkaRelay, .eventPath, .gateway: return []
        case .throughput: return [throughput]
        case .fanout: return [fanout]
        case .hotConversation: return [hot]
        case .multiTenant: return [multi]
        case .scaleOut:
            var runs: [DeliveryScenario.Plan] = []
            for var plan in [throughput, multi] {
                plan.name = "scale-out/" + plan.name
                plan.rawCeilingSeconds = 0
                plan.publishOnceJoined = true
                for workers in [1, 3] {
                    plan.workers = workers
                    runs.append(plan)
                }
            }
            return runs
        }
    }
}
