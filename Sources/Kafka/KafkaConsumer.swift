import CRdKafka
import Dispatch
import Logging
import Synchronization

/// A consumer-group member with manual offset commits, batch polling off the cooperative pool, rebalance
/// callbacks that run before partitions are released, and per-partition pause/resume.
///
/// Offsets are never committed automatically: call ``commit(_:)`` with the next offset to read.
public final class KafkaConsumer: Sendable {
    let client: RDKafkaClient
    let state: ConsumerState
    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    private let reader: MessageReader
    /// Polls, and the group leave in ``close()``, run here: the rebalance handler runs on this queue.
    private let pollQueue = DispatchQueue(label: "herald.kafka.consumer.poll")
    /// Blocking commits and offset queries run here, so they can be made from inside a rebalance handler.
    let commitQueue = DispatchQueue(label: "herald.kafka.consumer.commit")

    /// Creates the client; nothing is fetched until ``subscribe()`` and the first ``poll()``.
    public init(
        configuration: KafkaConsumerConfiguration,
        logger: Logger,
        onRebalance: RebalanceHandler? = nil
    ) throws(KafkaError) {
        // partition.assignment.strategy stays librdkafka's eager default (range,roundrobin): Debian's 2.0.2
        // aborts when a cooperative-sticky consumer is destroyed before its first assignment (librdkafka
        // issue 4312, fixed in 2.3.0). Both protocols are handled below if a user sets another one.
        let conf = try RDKafkaConfig.make(
            defaults: [
                "client.id": configuration.cluster.clientId,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": "100",
                // librdkafka prefetches up to 64 MB and 100,000 records per partition by default, so a worker's
                // memory grew with the backlog on its topics; Herald reads ahead in its own bounded queue anyway.
                "queued.max.messages.kbytes": "16384",
                "queued.min.messages": "10000",
                "enable.partition.eof": "false",
                // A killed worker's partitions move to the others after this long (Kafka's default is 45 s).
                "session.timeout.ms": "10000",
                "heartbeat.interval.ms": "1000",
            ],
            user: configuration.cluster.properties,
            managed: [
                .init(
                    name: "bootstrap.servers", value: configuration.cluster.bootstrapServers,
                    reason: "set it with kafka.brokers"),
                .init(name: "group.id", value: configuration.groupId, reason: "set it with kafka.groupId"),
                .init(name: "enable.auto.commit", value: "false", reason: "Herald commits only what has an outcome"),
                .init(name: "enable.auto.offset.store", value: "false", reason: "Herald commits explicit offsets"),
            ]
        )
        let state = ConsumerState()
        let context = RDKafkaClient.Context(logger: logger)
        context.rebalance = { rk, err, list in
            KafkaConsumer.rebalance(rk: rk, err: err, list: list, state: state, handler: onRebalance, logger: logger)
        }
        let client = try RDKafkaClient(kind: .consumer, conf: conf, context: context)
        client.withHandle { _ = rd_kafka_poll_set_consumer($0) }
        self.client = client
        self.state = state
        self.configuration = configuration
        self.logger = logger
        self.reader = MessageReader(client: client, capacity: configuration.maxBatchSize, logger: logger)
    }

    deinit {
        if !state.isClosing {
            logger.warning("Kafka consumer dropped without close(); the group sees it leave only at session timeout")
            client.skipConsumerCloseOnDestroy.store(true, ordering: .releasing)
        }
    }

    /// Joins the group and subscribes to the configured topics.
    public func subscribe() throws(KafkaError) {
        let topics = configuration.topics.map {
            TopicPartitionOffset(topic: $0, partition: RD_KAFKA_PARTITION_UA, offset: Int64(RD_KAFKA_OFFSET_INVALID))
        }
        try TopicPartitionList.with(topics) { list throws(KafkaError) in
            let err = client.withHandle { rd_kafka_subscribe($0, list) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, context: "cannot subscribe to \(configuration.topics.joined(separator: ","))")
            }
        }
    }

    /// Waits up to `timeout` (default: the configured poll timeout) for records and returns a batch (possibly
    /// empty) of at most `maxBatchSize`. Runs on a dedicated queue; rebalance handlers run inside it.
    public func poll(timeout: Duration? = nil) async throws(KafkaError) -> [KafkaMessage] {
        if state.isClosing { throw .closed("Kafka consumer") }
        if let fatal = client.fatalError { throw fatal }
        let reader = self.reader
        let timeout = (timeout ?? configuration.pollTimeout).milliseconds
        return await runBlocking(on: pollQueue) { reader.readBatch(timeoutMilliseconds: timeout) }
    }

    /// Leaves the group: the rebalance handler sees the remaining partitions revoked (and may commit), then
    /// the member leaves so the others take over at once. Later calls do nothing.
    public func close() async {
        guard state.beginClosing() else { return }
        let client = self.client
        await runBlocking(on: pollQueue) {
            client.withHandle { _ = rd_kafka_consumer_close($0) }
        }
        state.finishClosing()
        client.skipConsumerCloseOnDestroy.store(true, ordering: .releasing)
    }

    /// The partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { state.assignment }

    /// The assigned partitions that are paused.
    public var pausedPartitions: Set<TopicPartition> { state.paused }

    /// The group member id the coordinator gave this member (empty before joining).
    public var memberId: String {
        client.withHandle { rk in
            guard let id = rd_kafka_memberid(rk) else { return "" }
            defer { rd_kafka_mem_free(rk, id) }
            return String(cString: id)
        }
    }
}
