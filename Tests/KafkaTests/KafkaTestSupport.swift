import Foundation
import Kafka
import Logging
import Testing

/// Test logger: silent unless HERALD_TEST_LOG is set (then warnings and worse go to stderr).
let testLogger: Logger = {
    if ProcessInfo.processInfo.environment["HERALD_TEST_LOG"] != nil {
        var logger = Logger(label: "kafka-tests", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = ProcessInfo.processInfo.environment["HERALD_TEST_LOG"] == "debug" ? .info : .warning
        return logger
    }
    return Logger(label: "kafka-tests", factory: { _ in SwiftLogNoOpLogHandler() })
}()

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// A cluster with one topic, plus helpers to make clients against it over TCP.
struct KafkaFixture {
    let cluster: EmbeddedKafka
    let topic: String

    init(brokers: Int = 1, partitions: Int32 = 3, topic: String = "events") throws {
        cluster = try EmbeddedKafka(brokers: brokers, logger: testLogger)
        self.topic = topic
        try cluster.createTopic(topic, partitions: partitions)
    }

    func producer(properties: [String: String] = [:]) throws -> KafkaProducer {
        try KafkaProducer(
            configuration: .init(cluster: .init(bootstrapServers: cluster.bootstrapServers, properties: properties)),
            logger: testLogger
        )
    }

    func consumer(
        group: String = "herald-test", properties: [String: String] = [:],
        onRebalance: RebalanceHandler? = nil
    ) throws -> KafkaConsumer {
        // The mock cluster completes a rebalance only after the members' session timeout: keep it short.
        let properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"].merging(properties) { $1 }
        let consumer = try KafkaConsumer(
            configuration: .init(
                cluster: .init(bootstrapServers: cluster.bootstrapServers, properties: properties),
                groupId: group, topics: [topic]
            ),
            logger: testLogger,
            onRebalance: onRebalance
        )
        try consumer.subscribe()
        return consumer
    }

    /// Produces `count` records with values "<prefix>-<i>" and waits for every delivery report.
    @discardableResult
    func produce(
        _ producer: KafkaProducer, count: Int, prefix: String = "m", partition: Int32? = nil
    ) async throws -> [DeliveryReport] {
        let messages = (0..<count).map {
            ProducerMessage(
                topic: topic, partition: partition, key: Array("key-\($0)".utf8), value: Array("\(prefix)-\($0)".utf8))
        }
        return try await producer.send(messages).map { try $0.get() }
    }
}

/// Polls until `done` holds for everything received so far, or fails after `timeout`.
func poll(
    _ consumer: KafkaConsumer, timeout: Duration = .seconds(30),
    until done: ([KafkaMessage]) -> Bool
) async throws -> [KafkaMessage] {
    let deadline = ContinuousClock.now + timeout
    var received: [KafkaMessage] = []
    while !done(received) {
        guard ContinuousClock.now < deadline else {
            throw TimedOut(description: "condition not met after \(timeout); received \(received.count) records")
        }
        received += try await consumer.poll()
    }
    return received
}

/// Awaits `condition` with a deadline, polling it every few milliseconds.
func eventually(
    timeout: Duration = .seconds(30), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "\(what) not true after \(timeout)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension KafkaMessage {
    var text: String { String(decoding: value, as: UTF8.self) }
}

/// The offsets to commit after processing `messages`: per partition, the highest offset + 1.
func nextOffsets(_ messages: [KafkaMessage]) -> [TopicPartitionOffset] {
    var next: [TopicPartition: Int64] = [:]
    for message in messages {
        next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
    }
    return next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
}
