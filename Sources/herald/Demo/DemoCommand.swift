import ArgumentParser
import Engine
import Foundation
import HeraldConfig
import HeraldDemo
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
        // The emulator stands in for Teams' own machines: a process of its own, so requests reach it when they
        // leave, not when the demo's busy process gets round to serving them.
        try await DemoEmulatorProcess.withRunning(emulatorConfiguration) { emulator in
            configuration.kafka.brokers = kafka.bootstrapServers
            configuration.bot.tokenUrl = emulator.tokenURL
            configuration.bot.defaultServiceUrl = emulator.serviceUrl
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
            print(
                "Herald demo: \(events) events for \(recipients) recipients in \(world.tenants) tenants, and a burst of "
                    + "\(world.ciBursts.reduce(0, +)) failed builds")
            print(
                "  Kafka     embedded at \(kafka.bootstrapServers), topic \(configuration.kafka.eventsTopics.joined(separator: ",")) (\(partitions) partitions)"
            )
            print(
                "  Teams     emulator (herald emulator) at \(emulator.origin) with Teams' rate limits (50 requests/s per tenant, 7/1 s per conversation ...)"
            )
            print("  store     SQLite in \(folder.path)")
            print("  routes    \(configuration.routesFilePath)")

            try await withStore(url: configuration.store.url, logger: logger) { store in
                try await store.upsertReferences(world.references(serviceUrl: emulator.serviceUrl))
            }
            let acted = try await Self.perform(
                configuration, world: world, emulator: emulator, bootstrap: kafka.bootstrapServers, logger: logger)
            let elapsed = ContinuousClock.now - acted.started
            if let failure = acted.failure { throw DemoError("cannot publish the demo's events: \(failure)") }
            let (installs, finished, total) = (acted.installs, acted.finished, acted.total)
            let captured = try await withStore(url: configuration.store.url, logger: logger) { store in
                try await DemoWorld.captured(installs, in: store)
            }
            let conversations = try await emulator.conversations()
            let welcomed = DemoWorld.welcomed(installs, in: conversations)
            let languages = DemoWorld.languages(in: conversations)
            let buildDigests = DemoWorld.buildDigests(in: conversations)
            let clicks = acted.clicks
            let suppressed = finished.outcomes["suppressed/OptedOut", default: 0]
            let teams = try await emulator.stats()
            Self.printSummary(finished, expected: total, elapsed: elapsed, teams: teams)
            print(
                "Gateway      \(installs.personal + installs.teams) installs heard (\(installs.accepted) activities), "
                    + "\(captured) references captured, \(welcomed) conversations welcomed")
            let failures = world.ciBursts.reduce(0, +)
            print(
                "Digests      \(failures) failed builds to \(world.ciBursts.count) team channel\(world.ciBursts.count == 1 ? "" : "s") arrived as "
                    + "\(buildDigests) messages (\(finished.deliveredByRoute["ci-build-failed", default: 0]) delivered, "
                    + "each with its own outcome)")
            print(
                "Languages    \(languages.german) ticket cards in German, \(languages.portuguese) in Portuguese: the "
                    + "assignee's Teams locale (de-AT falls back to de) or the helpdesk's, else English")
            print(
                "Buttons      \(clicks.acknowledged) acknowledged, \(clicks.optedOut) pressed \"Stop these notifications\";"
                    + " each was assigned one more ticket: \(suppressed) suppressed (OptedOut)")
            guard buildDigests == world.ciBursts.reduce(0, { $0 + ($1 + 24) / 25 }) else {
                throw DemoError("\(failures) failed builds arrived as \(buildDigests) messages, not in digests of 25")
            }
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
                teams.activitiesSent <= finished.outcomes["delivered", default: 0]
                    + finished.outcomes["failed/MessageWritesBlocked", default: 0]
                    + finished.outcomes["failed/ConversationBlockedByUser", default: 0]
            else {
                throw DemoError("Teams received more messages than were delivered")
            }
        }
    }

    static func progressLine(_ stats: EngineStats.Snapshot, expected: Int) -> String {
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
        let byOperation =
            stats.throttledByOperation.isEmpty
            ? ""
            : " ["
                + stats.throttledByOperation.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + "]"
        let byLimit =
            teams.throttledBy.isEmpty
            ? ""
            : " by "
                + teams.throttledBy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ")
        print(
            "Teams        \(stats.requests) requests, \(stats.throttled) answered 429\(byOperation) (emulator: \(teams.throttled) throttled\(byLimit), \(teams.conversationsCreated) conversations created, \(teams.activitiesSent) sent, \(teams.activitiesUpdated) updated)"
        )
        print(
            "Graph        the app installed for \(teams.graphInstalls) users who never installed it; \(teams.directoryReads) directory reads for people named by email and groups (emulator: \(teams.graphRequests) Graph requests)"
        )
        print(
            "Directory    \(stats.deliveredByRoute["ticket-escalated", default: 0]) escalations delivered to assignees named by email and members of their tenant's escalation group (Entra ID), resolved through Graph"
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

/// The demo's worker, once it exists.
final class RunningWorker: Sendable {
    let worker = Mutex<Worker?>(nil)
}
