import Foundation
import Kafka
import Logging

/// The `kafka-relay` benchmark: seeds a topic, then times kcat reading it, the binding reading it, and the
/// binding relaying it to a second topic with per-batch commits.
package struct KafkaRelayScenario {
    package struct Result {
        var messages: Int
        var size: Int
        var bindingProducePerSecond: Double
        var bindingConsumePerSecond: Double
        var relayPerSecond: Double
        var kcatConsumePerSecond: Double?
        var kcatProducePerSecond: Double?
        var kcatStartupSeconds: Double?

        var relayToKcat: Double? { kcatConsumePerSecond.map { relayPerSecond / $0 } }
        /// A relay produces every record it reads, so kcat's produce rate bounds it too.
        var relayToKcatProduce: Double? { kcatProducePerSecond.map { relayPerSecond / $0 } }

        package var table: String {
            func rate(_ value: Double?) -> String { value.map { String(format: "%.0f/s", $0) } ?? "-" }
            return """
                scenario            kafka-relay (\(messages) records of \(size) bytes, embedded cluster)
                kcat consume        \(rate(kcatConsumePerSecond)) (startup \(kcatStartupSeconds.map { String(format: "%.3f s", $0) } ?? "-") subtracted)
                kcat produce        \(rate(kcatProducePerSecond)) (idempotent, linger 5 ms, until every delivery report)
                binding produce     \(rate(bindingProducePerSecond)) (idempotent, until every delivery report)
                binding consume     \(rate(bindingConsumePerSecond))
                binding relay       \(rate(relayPerSecond)) (consume → produce → delivery report → commit)
                relay / kcat        \(relayToKcat.map { String(format: "%.2f", $0) } ?? "-") of kcat's consume rate, \(relayToKcatProduce.map { String(format: "%.2f", $0) } ?? "-") of its produce rate
                """
        }

        package var json: String {
            var object: [String: Any] = [
                "scenario": "kafka-relay", "messages": messages, "messageBytes": size,
                "bindingConsumePerSecond": bindingConsumePerSecond.rounded(),
                "bindingProducePerSecond": bindingProducePerSecond.rounded(),
                "relayPerSecond": relayPerSecond.rounded(),
            ]
            object["kcatConsumePerSecond"] = kcatConsumePerSecond?.rounded()
            object["kcatProducePerSecond"] = kcatProducePerSecond?.rounded()
            object["relayToKcatRatio"] = relayToKcat.map { ($0 * 1000).rounded() / 1000 }
            object["relayToKcatProduceRatio"] = relayToKcatProduce.map { ($0 * 1000).rounded() / 1000 }
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

    package init(messages: Int, size: Int, runKcat: Bool, properties: [String: String], logger: Logger) {
        self.messages = messages
        self.size = size
        self.runKcat = runKcat
        self.properties = properties
        self.logger = logger
    }

    package func run() async throws -> Result {
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        // The mock cluster keeps about 5 MB per partition and drops older records: size the topics to hold
        // every record.
        let partitions = Int32(clamping: max(4, (messages * (size + 100)) / 3_000_000 + 1))
        try kafka.createTopic("relay-in", partitions: partitions)
        try kafka.createTopic("relay-out", partitions: partitions)
        try kafka.createTopic("empty", partitions: partitions)
        try kafka.createTopic("kcat-out", partitions: partitions)
        let relay = KafkaRelay(
            cluster: .init(bootstrapServers: kafka.bootstrapServers, properties: properties), groupId: "bench-relay",
            logger: logger
        )
        let produced = try await relay.seed(topic: "relay-in", count: messages, size: size)

        var kcatRate: Double?
        var kcatProduceRate: Double?
        var kcatStartup: Double?
        if runKcat {
            let kcat = KcatBaseline(bootstrapServers: kafka.bootstrapServers)
            // Process start, connection and metadata: what reading an empty topic costs. A run is short, so
            // take the fastest of three of each.
            var startup = Double.infinity
            var total = Double.infinity
            for _ in 0..<3 {
                startup = min(startup, try await kcat.timeToReadToEnd(topic: "empty"))
                total = min(total, try await kcat.timeToReadToEnd(topic: "relay-in"))
            }
            kcatStartup = startup
            kcatRate = Double(messages) / max(total - startup, 1e-6)
            // One run only: each one adds `messages` records to the topic.
            let lines = FileManager.default.temporaryDirectory.appendingPathComponent(
                "herald-kcat-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: lines) }
            var records = Data(repeating: UInt8(ascii: "x"), count: messages * (size + 1))
            for end in stride(from: size, to: records.count, by: size + 1) { records[end] = UInt8(ascii: "\n") }
            try records.write(to: lines)
            let produced = try await kcat.timeToProduce(topic: "kcat-out", file: lines)
            kcatProduceRate = Double(messages) / max(produced - startup, 1e-6)
        }
        var consumeOnly = relay
        consumeOnly.groupId = "bench-consume"
        let consumed = try await consumeOnly.consume(topic: "relay-in", count: messages)
        let relayed = try await relay.relay(from: "relay-in", to: "relay-out", count: messages)
        return Result(
            messages: messages, size: size, bindingProducePerSecond: produced.perSecond,
            bindingConsumePerSecond: consumed.perSecond, relayPerSecond: relayed.perSecond,
            kcatConsumePerSecond: kcatRate, kcatProducePerSecond: kcatProduceRate, kcatStartupSeconds: kcatStartup
        )
    }
}
