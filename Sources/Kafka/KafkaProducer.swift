import CRdKafka
import Dispatch
import Logging
import Synchronization

/// An idempotent Kafka producer: asynchronous sends whose delivery reports are awaitable results.
///
/// Records to one partition are written exactly once and in order even when librdkafka retries
/// (`enable.idempotence=true`). Call ``shutdown()`` before dropping the producer, so nothing queued is lost.
public final class KafkaProducer: Sendable {
    let client: RDKafkaClient
    private let pollLoop: PollLoop
    private let configuration: KafkaProducerConfiguration
    private let logger: Logger
    private let closed = Atomic<Bool>(false)
    /// Blocking librdkafka calls (flush, metadata), off Swift's cooperative pool.
    let blockingQueue = DispatchQueue(label: "herald.kafka.producer.blocking")

    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        let conf = try RDKafkaConfig.make(
            // Records up to 16 MiB: a dead-lettered record is republished unchanged, and an events topic may
            // allow more than librdkafka's 1 MB default.
            defaults: ["linger.ms": "5", "client.id": configuration.cluster.clientId, "message.max.bytes": "16777216"],
            user: configuration.cluster.properties,
            managed: [
                .init(
                    name: "bootstrap.servers", value: configuration.cluster.bootstrapServers,
                    reason: "set it with kafka.brokers"),
                .init(
                    name: "enable.idempotence", value: "true", reason: "outcomes must not be duplicated or reordered"),
            ]
        )
        let client = try RDKafkaClient(kind: .producer, conf: conf, context: .init(logger: logger))
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.pollLoop = PollLoop(label: "herald.kafka.producer.poll") {
            client.withHandle { _ = rd_kafka_poll($0, 100) }
        }
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            let pending = client.withHandle { rd_kafka_outq_len($0) }
            if pending > 0 {
                logger.error("Kafka producer dropped without shutdown(); \(pending) records may be lost")
            }
        }
    }

    /// Enqueues `message`; `onDelivery` runs exactly once, on the producer's polling thread, with the result.
    /// Throws at once (and never calls `onDelivery`) when the record cannot be enqueued.
    public func send(
        _ message: ProducerMessage,
        onDelivery: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    ) throws(KafkaError) {
        let completion = DeliveryCompletion(topic: message.topic, callback: onDelivery)
        let opaque = completion.retainedOpaque()
        if let error = enqueue(message, opaque: opaque) {
            DeliveryCompletion.release(opaque)
            throw error
        }
    }

    /// Produces `message` and waits for its delivery report. Waits for room when the local queue is full.
    public func send(_ message: ProducerMessage) async throws(KafkaError) -> DeliveryReport {
        try await enqueue([message]).reports()[0].get()
    }

    /// Produces `messages` and waits for every delivery report; results are in the order of `messages`.
    public func send(_ messages: [ProducerMessage]) async -> [Result<DeliveryReport, KafkaError>] {
        await enqueue(messages).reports()
    }

    /// Enqueues `messages` (waiting for room when the local queue is full) without waiting for their
    /// delivery, so the caller can poll and produce more while these are in flight.
    public func enqueue(_ messages: [ProducerMessage]) async -> PendingDeliveries {
        let batch = BatchDeliveries(topics: messages.map(\.topic))
        for (index, message) in messages.enumerated() {
            while let error = enqueue(message, opaque: batch.opaque(index)) {
                guard error.code == .queueFull else {
                    batch.refused(index, error)
                    break
                }
                // librdkafka frees room as delivery reports arrive on the polling thread.
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        return PendingDeliveries(batch: batch.completion)
    }

    /// Waits until every queued record has its delivery report, up to `timeout`.
    public func flush(timeout: Duration? = nil) async throws(KafkaError) {
        let ms = (timeout ?? configuration.flushTimeout).milliseconds
        let client = self.client
        let err = await runBlocking(on: blockingQueue) { client.withHandle { rd_kafka_flush($0, ms) } }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let pending = client.withHandle { rd_kafka_outq_len($0) }
            throw KafkaError(
                code: .timedOut, message: "Kafka producer flush timed out with \(pending) records undelivered")
        }
    }

    /// Refuses new records, flushes what is queued (up to the flush timeout) and stops the polling thread.
    /// Records still undelivered after the timeout fail with a purge error, so no caller waits forever.
    public func shutdown() async throws(KafkaError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var flushError: KafkaError?
        do {
            try await flush()
        } catch {
            flushError = error
            client.withHandle { rk in
                _ = rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            }
        }
        await pollLoop.stop()
        client.withHandle { _ = rd_kafka_poll($0, 0) }
        if let flushError { throw flushError }
    }

    var isClosed: Bool { closed.load(ordering: .relaxed) }

    /// The fatal error the producer raised, if any; a producer in this state refuses every record.
    public var fatalError: KafkaError? { client.fatalError }

    func withHandle<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        try client.withHandle(body)
    }

    /// Records waiting for a delivery report.
    public var pendingCount: Int {
        Int(client.withHandle { rd_kafka_outq_len($0) })
    }
}

/// Delivery reports still to come for records handed to ``KafkaProducer/enqueue(_:)``.
public struct PendingDeliveries: Sendable {
    fileprivate let batch: BatchCompletion<Result<DeliveryReport, KafkaError>>

    /// Waits for every report; results are in the order the records were given.
    public func reports() async -> [Result<DeliveryReport, KafkaError>] {
        await batch.wait()
    }
}
