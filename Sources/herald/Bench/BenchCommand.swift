import ArgumentParser
import Foundation
import Kafka

/// `herald bench SCENARIO`: Herald's benchmark scenarios.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark scenario and print its results.",
        discussion: """
            Scenarios:
              kafka-relay  consume → produce → commit through the Kafka binding on the embedded cluster,
                           compared with kcat reading the same topic (the same librdkafka, in C).
            """
    )

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case kafkaRelay = "kafka-relay"
    }

    @Argument(help: "The scenario to run: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario: Scenario

    @Option(help: "Records to move (kafka-relay).")
    var messages = 100_000

    @Option(help: "Record size in bytes (kafka-relay).")
    var size = 500

    @Option(name: .customLong("property"), help: "A librdkafka property NAME=VALUE for Herald's clients (repeatable).")
    var properties: [String] = []

    @Flag(help: "Do not run kcat for comparison.")
    var skipKcat = false

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard properties.allSatisfy({ $0.contains("=") }) else { throw ValidationError("--property takes NAME=VALUE") }
        guard messages > 0 else { throw ValidationError("--messages must be positive") }
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
        }
    }
}
