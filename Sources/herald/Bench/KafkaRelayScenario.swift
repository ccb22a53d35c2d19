import Foundation
import Kafka
import Logging

/// The `kafka-relay` benchmark: seeds a topic, then times kcat reading it, the binding reading it, and the
/// binding relaying it to a second topic with per-batch commits.
struct KafkaRelayScenario {
    struct Result {
        var messages: Int
        var size: Int
        var bindingProducePerSecond: Double
        var bindingConsumePerSecond: Double
        var relayPerSecond: Double
        var kcatConsumePerSecond: Double?
        var kcatStartupSeconds: Double?

        var relayToKcat: Double? { kcatConsumePerSecond.map { relayPerSecond / $0 } }

        var table: String {
            func rate(_ value: Double?) -> String { value.map { String(format: "%.0f/s", $0) } ?? "-" }
            return """
                scenario            kafka-relay (\(messages) records of \(size) bytes, embedded cluster)
                kcat consume        \(rate(kcatConsumePerSecond)) (startup \(kcatStartupSeconds.map { String(format: "%.3f s", $0) } ?? "-") subtracted)
                binding produce     \(rate(bindingProducePerSecond)) (idempotent, until every delivery report)
                binding consume     \(rate(bindingConsumePerSecond))
                binding relay       \(rate(relayPerSecond)) (consume → produce → delivery report → commit)
                relay / kcat        \(relayToKcat.map { String(format: "%.2f", $0) } ?? "-")
                """
        }

        var json: String {
            var object: [String: Any] = [
                "scenario": "kafka-relay", "messages": messages, "messageBytes": size,
                "bindingConsumePerSecond": bindingConsumePerSecond.rounded(),
                "bindingProducePerSecond": bindingProducePerSecond.rounded(), "relayPerSecond": relayPerSecond.rounded(),
            ]
            object["kcatConsumePerSecond"] = kcatConsumePerSecond?.rounded()
            object["relayToKcatRatio"] = relayToKcat.map { ($0 * 1000).rounded() / 1000 }
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }

    var messages: Int
    var size: Int
    var runKcat: Bool
    /// librdkafka properties for the binding's clients (not kcat's).
    var properties: [String: String]
    var logger: Logger

    func run() async throws -> Result {
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        // The mock cluster keeps about 5 MB per partition and drops older records: size the topics to hold
        // every record.
        let partitions = Int32(clamping: max(4, (messages * (size + 100)) / 3_000_000 + 1))
        try kafka.createTopic("relay-in", partitions: partitions)
        try kafka.createTopic("relay-out", partitions: partitions)
        try kafka.createTopic("empty", partitions: partitions)
        let relay = KafkaRelay(
            cluster: .init(bootstrapServers: kafka.bootstrapServers, properties: properties), groupId: "bench-relay", logger: logger
        )
        let produced = try await relay.seed(topic: "relay-in", count: messages, size: size)

        var kcatRate: Double?
        var kcatStartup: Double?
        if runKcat {
            let kcat = KcatBaseline(bootstrapServers: kafka.bootstrapServers)
            // Process start, connection and metadata: what reading an empty topic costs. A run is short, so
            // take the fastest of three of each.
            let startup = try (0..<3).map { _ in try kcat.timeToReadToEnd(topic: "empty") }.min()!
            let total = try (0..<3).map { _ in try kcat.timeToReadToEnd(topic: "relay-in") }.min()!
            kcatStartup = startup
            kcatRate = Double(messages) / max(total - startup, 1e-6)
        }
        var consumeOnly = relay
        consumeOnly.groupId = "bench-consume"
        let consumed = try await consumeOnly.consume(topic: "relay-in", count: messages)
        let relayed = try await relay.relay(from: "relay-in", to: "relay-out", count: messages)
        return Result(
            messages: messages, size: size, bindingProducePerSecond: produced.perSecond, bindingConsumePerSecond: consumed.perSecond, relayPerSecond: relayed.perSecond,
            kcatConsumePerSecond: kcatRate, kcatStartupSeconds: kcatStartup
        )
    }
}
