import ArgumentParser
import Glibc
import Kafka
import ServiceLifecycle

/// Runs an embedded Kafka (librdkafka's mock cluster) for local development.
struct KafkaDevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-dev",
        abstract: "Run an embedded Kafka cluster on loopback and print its bootstrap address.",
        discussion: """
            Other processes (kcat, another herald) connect over TCP. Not for production: it keeps records in \
            memory only and does not implement transactions. Stops on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Number of brokers.")
    var brokers = 1

    @Option(name: .customLong("topic"), help: "A topic to create, as NAME:PARTITIONS (repeatable).")
    var topics: [TopicSpec] = [
        TopicSpec(name: "notifications", partitions: 8),
        TopicSpec(name: "notification-outcomes", partitions: 8),
        TopicSpec(name: "notifications-dlq", partitions: 1),
    ]

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 16") }
    }

    func run() async throws {
        let logger = logging.makeLogger("herald.kafka-dev")
        let (brokers, topics) = (self.brokers, self.topics)
        // Started by the group, after its signal handlers: a SIGINT or SIGTERM from the moment the address is
        // printed stops the cluster cleanly.
        let cluster = ClosureService {
            let kafka = try EmbeddedKafka(brokers: brokers, logger: logger)
            for topic in topics {
                try kafka.createTopic(topic.name, partitions: topic.partitions)
            }
            print("bootstrap.servers=\(kafka.bootstrapServers)")
            print("topics=\(topics.map { "\($0.name):\($0.partitions)" }.joined(separator: ","))")
            fflush(nil)  // flush every stream: a script reading our output through a pipe needs the address now
            try? await gracefulShutdown()
            withExtendedLifetime(kafka) {}
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: cluster, serviceName: "embedded kafka")],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct TopicSpec: ExpressibleByArgument, Sendable {
    var name: String
    var partitions: Int32

    init(name: String, partitions: Int32) {
        self.name = name
        self.partitions = partitions
    }

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let count = Int32(parts[1]), count > 0 else { return nil }
        self.init(name: String(parts[0]), partitions: count)
    }
}
