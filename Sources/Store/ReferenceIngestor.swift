import Foundation
import Kafka
import Logging
import ServiceLifecycle

/// Keeps the store's conversation references in step with `kafka.referencesTopic`, a compacted topic the bot's
/// front end publishes references to.
///
/// It consumes with its own consumer group (`<kafka.groupId>-references` by convention): the workers of one
/// deployment share the topic's partitions and the store, so each record is upserted once per group, and a new
/// deployment (no committed offsets) reads the compacted topic from the beginning (`auto.offset.reset=earliest`).
/// Each polled batch is parsed with ``BotFrameworkReference/parse(_:key:line:now:)`` (the record key, when
/// present, is the reference key), upserted in one call, and only then are its offsets committed: a crash
/// re-reads, never skips. A record with an empty value is a tombstone: its key is forgotten. Records that do not
/// parse are logged and skipped.
public struct ReferenceIngestor: Service {
    public let consumer: KafkaConsumer
    public let store: any HeraldStore
    let logger: Logger

    /// What one batch did.
    public struct BatchResult: Sendable, Hashable {
        public var upserted = 0
        public var forgotten = 0
        public var rejected = 0
    }

    /// Creates the consumer (nothing is fetched before ``run()``).
    public init(
        cluster: KafkaClusterConfiguration, groupId: String, topic: String, store: any HeraldStore, logger: Logger
    ) throws {
        var logger = logger
        logger[metadataKey: StoreMetadataKey.topic] = "\(topic)"
        self.logger = logger
        self.store = store
        self.consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(cluster: cluster, groupId: groupId, topics: [topic]),
            logger: logger)
    }

    /// Polls, upserts and commits until graceful shutdown or cancellation; then leaves the group.
    /// Store errors that are retryable pause ingestion (the batch is retried) instead of ending it.
    public func run() async throws {
        try consumer.subscribe()
        do {
            try await withGracefulShutdownHandler {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    let batch = try await consumer.poll()
                    guard !batch.isEmpty else { continue }
                    try await ingestWithRetry(batch)
                }
            } onGracefulShutdown: {
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    private func ingestWithRetry(_ batch: [KafkaMessage]) async throws {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let result = try await ingest(batch)
                logger.debug(
                    "references ingested",
                    metadata: [
                        "upserted": "\(result.upserted)", "forgotten": "\(result.forgotten)",
                        "rejected": "\(result.rejected)",
                    ])
                return
            } catch let error as StoreError where error.isRetryable {
                logger.warning(
                    "store unavailable; retrying the references batch", metadata: [StoreMetadataKey.error: "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Upserts and forgets what `batch` says, then commits its offsets.
    @discardableResult
    public func ingest(_ batch: [KafkaMessage]) async throws -> BatchResult {
        var result = BatchResult()
        var latest: [String: ConversationReference?] = [:]  // per key, the last record in the batch wins
        var order: [String] = []
        for message in batch {
            let key = message.key.flatMap { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
            if message.value.isEmpty {
                guard let key else {
                    result.rejected += 1
                    continue
                }
                if latest.updateValue(nil, forKey: key) == nil { order.append(key) }
                continue
            }
            do {
                let reference = try BotFrameworkReference.parse(
                    String(decoding: message.value, as: UTF8.self), key: key)
                if latest.updateValue(reference, forKey: reference.key) == nil { order.append(reference.key) }
            } catch {
                result.rejected += 1
                logger.warning(
                    "skipping a record that is not a conversation reference",
                    metadata: [
                        "partition": "\(message.partition)", "offset": "\(message.offset)",
                        StoreMetadataKey.error: "\(error)",
                    ])
            }
        }
        let upserts = order.compactMap { latest[$0] ?? nil }
        let tombstones = order.filter { latest[$0] ?? nil == nil }
        try await store.upsertReferences(upserts)
        let forgotten = try await store.forgetReferences(keys: tombstones)
        result.upserted = upserts.count
        result.forgotten = forgotten
        var next: [TopicPartition: Int64] = [:]
        for message in batch {
            next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
        }
        try await consumer.commit(
            next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
        return result
    }
}
