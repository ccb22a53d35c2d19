import ArgumentParser
import Engine
import Foundation
import HeraldConfig
import Kafka
import Logging

/// `herald run --config FILE`: the production worker.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a delivery worker until SIGTERM or SIGINT, then drain and exit 0.",
        discussion: """
            Joins the consumer group kafka.groupId on kafka.eventsTopics, delivers every routed event to Teams and \
            publishes one outcome per delivery on kafka.outcomesTopic. On SIGTERM it stops reading, finishes or \
            parks in-flight deliveries within delivery.shutdownGracePeriod, commits and leaves the group.
            """
    )

    @Option(help: "The configuration file (YAML).")
    var config: String

    @Option(help: "Overrides log.level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level?

    func run() async throws {
        let configuration: HeraldConfiguration
        do {
            configuration = try HeraldConfiguration.load(file: config)
        } catch {
            throw RunError("\(error)")  // each problem names the file and line
        }
        var logging = LoggingOptions()
        logging.logLevel = logLevel ?? Logger.Level(rawValue: configuration.log.level) ?? .info
        let logger = logging.makeLogger("herald.run")
        var embedded: EmbeddedKafka?
        if configuration.kafka.isEmbedded {
            let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
            for topic in configuration.kafka.eventsTopics { try kafka.createTopic(topic, partitions: 8) }
            print("bootstrap.servers=\(kafka.bootstrapServers)")
            embedded = kafka
        }
        do {
            try await WorkerSetup.run(
                configuration, bootstrapServers: embedded?.bootstrapServers, logger: logger,
                until: { await Termination.wait() })
        } catch let error as ConfigError {
            throw RunError("\(error)")
        }
        withExtendedLifetime(embedded) {}
    }
}

struct RunError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
