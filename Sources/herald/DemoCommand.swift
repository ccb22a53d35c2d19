import ArgumentParser
import Kafka

/// `herald demo`: the pipeline on one machine with no external services.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Herald end to end on this machine with no external services.",
        discussion: """
            Starts an embedded Kafka cluster, publishes sample notification events and moves them through a \
            consumer-group member and the idempotent producer, committing each batch once it is delivered. \
            This is the Kafka layer of the pipeline; Teams delivery joins it as the delivery engine lands.
            """
    )

    @Option(help: "Number of sample events to publish.")
    var events = 10_000

    @Option(help: "Number of distinct recipients (record keys).")
    var recipients = 500

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be between 1 and 1000000") }
        guard recipients >= 1 else { throw ValidationError("--recipients must be at least 1") }
    }

    func run() async throws {
        let logger = logging.makeLogger("herald.demo")
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        let partitions = Int32(clamping: max(8, events / 5_000 + 1))
        try kafka.createTopic("notifications", partitions: partitions)
        try kafka.createTopic("notifications-relayed", partitions: partitions)
        print("embedded Kafka at \(kafka.bootstrapServers) (topics notifications, notifications-relayed: \(partitions) partitions)")

        let relay = KafkaRelay(cluster: .init(bootstrapServers: kafka.bootstrapServers), groupId: "herald-demo", logger: logger)
        let published = try await relay.publishSampleEvents(topic: "notifications", count: events, recipients: recipients)
        print("published  \(events) CloudEvents for \(recipients) recipients at \(Int(published.perSecond))/s")

        print("relaying   through consumer group herald-demo (commit after delivery) ...")
        let relayed = try await relay.relay(from: "notifications", to: "notifications-relayed", count: events)
        print("relayed    \(relayed.records) events in \(String(format: "%.2f", relayed.seconds)) s, \(Int(relayed.perSecond))/s")

        let outcome = try await relay.verify(topic: "notifications-relayed", expected: events)
        print("verified   \(outcome.records) records on notifications-relayed, \(outcome.duplicates) duplicates, \(outcome.missing) missing")
        if outcome.duplicates > 0 || outcome.missing > 0 {
            throw DemoError("the relayed topic does not hold every event exactly once")
        }
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
