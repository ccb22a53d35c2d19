import ArgumentParser
import Engine
import Foundation
import Gateway
import HeraldConfig
import Kafka
import Logging
import Store
import Synchronization
import TeamsEmulator

/// `herald demo`: the whole pipeline on one machine with no external services.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Herald end to end on this machine with no external services.",
        discussion: """
            Starts an embedded Kafka cluster, the Teams emulator (with Teams' real rate limits) and a SQLite store \
            in a temporary folder, loads the example configuration and routes from deploy/examples, publishes a \
            realistic mix of events (ticket cards, updates of earlier cards, channel threads, a team broadcast, \
            blocked recipients, unroutable and malformed events) and runs a delivery worker until every delivery \
            has an outcome. Prints progress while it runs, then a summary.
            """
    )

    @Option(help: "Number of sample events to publish.")
    var events = 2_000

    @Option(help: "Number of distinct recipients.")
    var recipients = 500

    @Option(help: "The example configuration (its routes and templates are used). Default: deploy/examples/herald.yaml")
    var config: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be between 1 and 1000000") }
        guard (1...1_000_000).contains(recipients) else {
            throw ValidationError("--recipients must be between 1 and 1000000")
        }
    }

    func run() async throws {
        let logger = logging.makeLogger("herald.demo")
        let file = try config ?? Self.findExampleConfiguration()
        var configuration: HeraldConfiguration
        do {
            configuration = try HeraldConfiguration.load(file: file, environment: [:])
        } catch {
            throw DemoError("\(error)")  // each problem names the file and line
        }
        let world = DemoWorld(events: events, recipients: recipients)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // The gateway publishes installs for the welcome routes: its topics exist and the worker reads the
        // interactions.
        if configuration.kafka.referencesTopic.isEmpty { configuration.kafka.referencesTopic = "herald-references" }
        if !configuration.kafka.eventsTopics.contains(configuration.kafka.interactionsTopic) {
            configuration.kafka.eventsTopics.append(configuration.kafka.interactionsTopic)
        }
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        let partitions: Int32 = 8
        for topic in configuration.kafka.eventsTopics + [
            configuration.kafka.outcomesTopic, configuration.kafka.deadLetterTopic, configuration.kafka.referencesTopic,
        ] {
            try kafka.createTopic(topic, partitions: partitions)
        }
        let emulatorConfiguration = world.emulatorConfiguration(
            appId: configuration.bot.appId, appPassword: configuration.bot.appPassword)
        try await TeamsEmulator.withRunning(configuration: emulatorConfiguration, logger: logger) { emulator in
            configuration.kafka.brokers = kafka.bootstrapServers
            configuration.bot.tokenUrl = emulator.tokenURL
            configuration.bot.defaultServiceUrl = emulator.serviceURL
            configuration.bot.allowedServiceHosts = [emulator.origin]
            // Users who never installed the bot are reached by installing it for them (Microsoft Graph).
            configuration.bot.proactiveInstall = true
            configuration.bot.teamsAppId = DemoWorld.teamsAppId
            configuration.bot.graphUrl = "\(emulator.origin)/graph"
            configuration.bot.loginUrl = emulator.origin
            configuration.store.url = "sqlite://\(folder.path)/herald.db"
            configuration.gateway.host = "127.0.0.1"
            configuration.gateway.port = 0
            configuration.gateway.openIdMetadataUrl = emulator.openIdMetadataURL
            print("Herald demo: \(events) events for \(recipients) recipients in \(world.tenants) tenants")
            print(
                "  Kafka     embedded at \(kafka.bootstrapServers), topic \(configuration.kafka.eventsTopics.joined(separator: ",")) (\(partitions) partitions)"
            )
            print(
                "  Teams     emulator at \(emulator.origin) with Teams' rate limits (50 requests/s per tenant, 7/1 s per conversation ...)"
            )
            print("  store     SQLite in \(folder.path)")
            print("  routes    \(configuration.routesFilePath)")

            try await withStore(url: configuration.store.url, logger: logger) { store in
                try await store.upsertReferences(world.references(serviceURL: emulator.serviceURL))
            }
            // Act one: Teams tells the gateway where the app was installed.
            let gateway = DemoGateway()
            let serving = Task { [configuration] in try await gateway.run(configuration, logger: logger) }
            defer { serving.cancel() }
            let gatewayPort = try await gateway.port()
            emulator.updateConfiguration { $0.botEndpoint = "http://127.0.0.1:\(gatewayPort)/api/messages" }
            let installs = try await world.install(through: emulator)
            print(
                "  gateway   at 127.0.0.1:\(gatewayPort): \(installs.personal) users and \(installs.teams) teams installed the app"
                    + " (\(installs.accepted) of \(installs.sent) activities from Teams accepted)")
            // Act two, once the welcomes are out: the notifications.
            let (records, expectation) = world.records(now: Date())
            let bootstrap = kafka.bootstrapServers
            let publish: @Sendable () async throws -> Void = {
                let producer = try KafkaProducer(
                    configuration: .init(cluster: .init(bootstrapServers: bootstrap)), logger: logger)
                for result in await producer.send(records) { _ = try result.get() }
                try await producer.shutdown()
            }
            print(
                "  then      \(records.count) events: "
                    + expectation.byKind.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(
                        separator: ", "))
            print("")

            // Act three, once the notifications are out: people press the buttons on their cards, then get one
            // more ticket each (those who opted out do not).
            let clicked = Mutex(DemoWorld.Clicks())
            let clickCount = max(2, min(40, recipients / 10))
            let eventsTopic = records.first?.topic ?? "notifications"
            let press: @Sendable () async throws -> Int = {
                let clicks = await world.click(
                    through: emulator, count: clickCount, topic: eventsTopic, now: Date())
                clicked.withLock { $0 = clicks }
                let producer = try KafkaProducer(
                    configuration: .init(cluster: .init(bootstrapServers: bootstrap)), logger: logger)
                for result in await producer.send(clicks.followUps) { _ = try result.get() }
                try await producer.shutdown()
                return clicks.outcomes
            }

            let expected = installs.welcomes + expectation.outcomes
            let started = ContinuousClock.now
            let (finished, total) = try await Self.deliver(
                configuration, expected: expected,
                stages: [
                    (
                        after: installs.welcomes,
                        { @Sendable () async throws -> Int in
                            try await publish()
                            return 0
                        }
                    ),
                    (after: expected, press),
                ], logger: logger)
            let elapsed = ContinuousClock.now - started
            gateway.stop()
            try await serving.value
            let captured = try await withStore(url: configuration.store.url, logger: logger) { store in
                try await DemoWorld.captured(installs, in: store)
            }
            let welcomed = DemoWorld.welcomed(installs, in: emulator)
            let clicks = clicked.withLock { $0 }
            let suppressed = finished.outcomes["suppressed/OptedOut", default: 0]
            Self.printSummary(finished, expected: total, elapsed: elapsed, teams: emulator.stats())
            print(
                "Gateway      \(installs.personal + installs.teams) installs heard (\(installs.accepted) activities), "
                    + "\(captured) references captured, \(welcomed) conversations welcomed")
            print(
                "Buttons      \(clicks.acknowledged) acknowledged, \(clicks.optedOut) pressed \"Stop these notifications\";"
                    + " each was assigned one more ticket: \(suppressed) suppressed (OptedOut)")
            guard captured == installs.keys.count, welcomed == installs.welcomes else {
                throw DemoError(
                    "of \(installs.welcomes) installs, \(captured) references were captured and \(welcomed) welcomed")
            }
            guard finished.finalOutcomes + finished.deferred >= total else {
                throw DemoError(
                    "only \(finished.finalOutcomes + finished.deferred) of \(total) outcomes were published")
            }
            guard clicks.failed == 0, clicks.optedOut > 0, suppressed >= clicks.optedOut else {
                throw DemoError(
                    "of \(clicks.optedOut) opt-outs from cards \(suppressed) suppressed the next ticket"
                        + " (\(clicks.failed) presses not answered)")
            }
            guard
                emulator.stats().activitiesSent <= finished.outcomes["delivered", default: 0]
                    + finished.outcomes["failed/MessageWritesBlocked", default: 0]
                    + finished.outcomes["failed/ConversationBlockedByUser", default: 0]
            else {
                throw DemoError("Teams received more messages than were delivered")
            }
        }
    }

    /// Runs a worker until every expected outcome is out (or progress stops for a minute), printing progress.
    /// Each stage runs once `after` outcomes are out, in order; it returns how many more outcomes it brings.
    /// Returns the final statistics and the number of outcomes expected in the end.
    private static func deliver(
        _ configuration: HeraldConfiguration, expected initial: Int,
        stages: [(after: Int, run: @Sendable () async throws -> Int)], logger: Logger
    ) async throws -> (EngineStats.Snapshot, Int) {
        let failure = Mutex<(any Error)?>(nil)
        let running = RunningWorker()
        let interactive = isatty(STDOUT_FILENO) != 0
        let final = Mutex<EngineStats.Snapshot?>(nil)
        let total = Mutex(initial)
        try await WorkerSetup.run(
            configuration, worker: "herald-demo/1", logger: logger,
            tune: { $0.shutdownGracePeriod = .seconds(5) },
            started: { worker in running.worker.withLock { $0 = worker } },
            until: {
                var last = -1
                var next = 0
                var expected = initial
                var lastChange = ContinuousClock.now
                var lastPrint = ContinuousClock.now
                while true {
                    try? await Task.sleep(for: .milliseconds(interactive ? 250 : 500))
                    guard let worker = running.worker.withLock({ $0 }) else { continue }
                    let stats = worker.stats.snapshot()
                    let settled = stats.finalOutcomes + stats.deferred
                    if next < stages.count, settled >= stages[next].after {
                        do { expected += try await stages[next].run() } catch {
                            failure.withLock { $0 = error }
                            return
                        }
                        next += 1
                        lastChange = .now
                        total.withLock { $0 = expected }
                        continue
                    }
                    if settled != last {
                        last = settled
                        lastChange = .now
                    }
                    let line = progressLine(stats, expected: expected)
                    if interactive {
                        print("\r" + line, terminator: "")
                        fflush(nil)
                    } else if ContinuousClock.now - lastPrint >= .seconds(5) {
                        print(line)
                        lastPrint = .now
                    }
                    if (settled >= expected && next == stages.count) || ContinuousClock.now - lastChange > .seconds(60)
                    {
                        final.withLock { $0 = stats }
                        if interactive { print("\r" + line) }
                        return
                    }
                }
            })
        if let error = failure.withLock({ $0 }) { throw DemoError("cannot publish the demo's events: \(error)") }
        return (final.withLock { $0 } ?? EngineStats.Snapshot(), total.withLock { $0 })
    }

    private static func progressLine(_ stats: EngineStats.Snapshot, expected: Int) -> String {
        let settled = stats.finalOutcomes + stats.deferred
        let percent = expected == 0 ? 100 : settled * 100 / expected
        return "  outcomes \(settled)/\(expected) (\(percent)%)  delivered \(stats.outcomes["delivered", default: 0])"
            + "  updated \(stats.outcomes["updated", default: 0])  in flight \(stats.inFlight)"
            + "  Teams requests \(stats.requests)  429s \(stats.throttled)   "
    }

    private static func printSummary(
        _ stats: EngineStats.Snapshot, expected: Int, elapsed: Duration, teams: EmulatorStats
    ) {
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print("")
        print("Outcomes")
        var rows = stats.outcomes.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }
            .map { ($0.key, $0.value) }
        if stats.deferred > 0 { rows.append(("deferred (quiet hours; delivered when they end)", stats.deferred)) }
        let width = max(10, rows.map(\.0.count).max() ?? 0)
        for (key, count) in rows {
            print("  " + key.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "%8d", count))
        }
        print(
            "  " + "total".padding(toLength: width, withPad: " ", startingAt: 0)
                + String(format: "%8d", stats.finalOutcomes + stats.deferred))
        print("")
        print(
            String(
                format: "Throughput   %.0f outcomes/s (%d in %.1f s)",
                Double(stats.finalOutcomes + stats.deferred) / seconds, stats.finalOutcomes + stats.deferred, seconds))
        let p50 = stats.latencyPercentile(50).map { "\($0) ms" } ?? "-"
        let p99 = stats.latencyPercentile(99).map { "\($0) ms" } ?? "-"
        print("Latency      p50 \(p50), p99 \(p99) (event time to outcome, delivered messages)")
        print(
            "Teams        \(stats.requests) requests, \(stats.throttled) answered 429 (emulator: \(teams.throttled) throttled, \(teams.conversationsCreated) conversations created, \(teams.activitiesSent) sent, \(teams.activitiesUpdated) updated)"
        )
        print(
            "Graph        the app installed for \(teams.graphInstalls) users who never installed it (emulator: \(teams.graphRequests) Graph requests)"
        )
        print("Kafka        \(stats.recordsConsumed) records consumed, \(stats.deadLettered) dead-lettered")
    }

    /// `deploy/examples/herald.yaml` under the working directory or above the executable (a build folder).
    static func findExampleConfiguration() throws -> String {
        let relative = "deploy/examples/herald.yaml"
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory)
            directory.deleteLastPathComponent()
        }
        for candidate in candidates {
            let path = candidate.appendingPathComponent(relative).path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw DemoError("cannot find \(relative): run the demo from the repository, or pass --config")
    }
}

/// The demo's gateway: started before the worker, stopped after it.
private final class DemoGateway: Sendable {
    private let ports = AsyncStream<Int>.makeStream()
    private let stopping = AsyncStream<Void>.makeStream()

    func run(_ configuration: HeraldConfiguration, logger: Logger) async throws {
        do {
            try await GatewaySetup.run(
                configuration, logger: logger, listening: { port, _ in self.ports.continuation.yield(port) },
                until: { for await _ in self.stopping.stream {} })
        } catch {
            ports.continuation.finish()
            throw DemoError("the gateway failed: \(error)")
        }
    }

    func port() async throws -> Int {
        for await port in ports.stream { return port }
        throw DemoError("the gateway did not start")
    }

    func stop() { stopping.continuation.finish() }
}

/// The demo's worker, once it exists.
private final class RunningWorker: Sendable {
    let worker = Mutex<Worker?>(nil)
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
