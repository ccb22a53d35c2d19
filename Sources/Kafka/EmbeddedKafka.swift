import CRdKafka
import Logging

/// librdkafka's built-in mock cluster, speaking the real Kafka protocol on loopback TCP, for the demo, local
/// development and tests. Other processes (kcat, another herald) connect to ``bootstrapServers``.
///
/// Supports produce, idempotence, consumer groups and offset commits; not transactions. Never for production.
public final class EmbeddedKafka: @unchecked Sendable {
    private let client: RDKafkaClient
    private let cluster: OpaquePointer
    /// `host:port,...` of the mock brokers.
    public let bootstrapServers: String
    /// Broker ids are 1...brokerCount.
    public let brokerCount: Int

    /// Starts `brokers` mock brokers on random loopback ports.
    public init(brokers: Int = 1, logger: Logger) throws(KafkaError) {
        precondition(brokers >= 1, "a cluster needs at least one broker")
        let conf = try RDKafkaConfig.make(defaults: ["log_level": "3"], user: [:], managed: [])
        client = try RDKafkaClient(kind: .producer, conf: conf, context: .init(logger: logger))
        guard let cluster = client.withHandle({ rd_kafka_mock_cluster_new($0, Int32(brokers)) }) else {
            throw KafkaError(code: .clientCreation, message: "cannot start the embedded Kafka cluster")
        }
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        self.brokerCount = brokers
    }

    deinit {
        // Joins the mock brokers' thread: off the releasing thread, and before the client that hosts it goes.
        let doomed = Doomed(cluster: cluster, client: client)
        RDKafkaClient.destroyQueue.async {
            rd_kafka_mock_cluster_destroy(doomed.cluster)
            withExtendedLifetime(doomed.client) {}
        }
    }

    private struct Doomed: @unchecked Sendable {
        let cluster: OpaquePointer
        let client: RDKafkaClient
    }

    /// Creates `name` with `partitions` partitions (the mock cluster does not serve CreateTopics requests).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, min(replicationFactor, Int32(brokerCount)))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "cannot create topic \(name)") }
    }

    // MARK: Fault injection

    /// Makes the whole cluster unreachable until ``endOutage()``: every client connection is dropped at its next
    /// request and every new one at its first (the ApiVersion handshake), so nothing is produced, fetched,
    /// committed or coordinated meanwhile. The brokers keep their listening sockets.
    ///
    /// Use this, not `rd_kafka_mock_broker_set_down`, to take brokers away: in librdkafka 2.0.2 setting a
    /// broker down closes its listener and binds a new socket to the same port at once, asserting that it got
    /// it (rdkafka_mock.c, `rd_kafka_mock_broker_cmd`); a port taken meanwhile by any other socket on the
    /// machine aborts the whole process.
    public func beginOutage() {
        for api in KafkaAPIKey.withInjectableErrors {
            pushRequestErrors(api, Array(repeating: .transport, count: Self.outageErrorsPerAPI))
        }
    }

    /// Ends ``beginOutage()``: clients reconnect (after their reconnect backoff) and carry on.
    public func endOutage() {
        for api in KafkaAPIKey.withInjectableErrors { clearRequestErrors(api) }
    }

    /// Enough dropped requests per API for minutes of reconnecting clients (librdkafka backs a reconnect off
    /// up to 10 s); 16 bytes each.
    private static let outageErrorsPerAPI = 20_000

    /// Adds `rtt` of latency to every response of `broker`.
    public func setRoundTripTime(_ rtt: Duration, broker: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_rtt(cluster, broker, rtt.milliseconds), "cannot set broker \(broker) RTT")
    }

    /// Makes the next `errors.count` requests of `api` fail with those errors, in order, on any broker.
    /// ``KafkaError/Code/transport`` disconnects instead of answering.
    public func pushRequestErrors(_ api: KafkaAPIKey, _ errors: [KafkaError.Code]) {
        let codes = errors.map {
            rd_kafka_resp_err_t(rawValue: $0.librdkafkaCode ?? RD_KAFKA_RESP_ERR_UNKNOWN.rawValue)
        }
        codes.withUnsafeBufferPointer {
            rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, $0.count, $0.baseAddress)
        }
    }

    /// Forgets request errors pushed for `api` and not yet served.
    public func clearRequestErrors(_ api: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    /// Makes metadata answers report `error` for `topic` (e.g. `.librdkafka(29)`, TOPIC_AUTHORIZATION_FAILED),
    /// until set back to `nil`.
    public func setTopicError(_ topic: String, _ error: KafkaError.Code?) {
        let code =
            error.map { $0.librdkafkaCode ?? RD_KAFKA_RESP_ERR_UNKNOWN.rawValue } ?? RD_KAFKA_RESP_ERR_NO_ERROR.rawValue
        rd_kafka_mock_topic_set_error(cluster, topic, rd_kafka_resp_err_t(rawValue: code))
    }

    /// Moves the leadership of one partition to `broker`.
    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker),
            "cannot move leader of \(topic)/\(partition)")
    }

    /// Makes `broker` the coordinator of consumer group `groupId`.
    public func setGroupCoordinator(_ groupId: String, broker: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_coordinator_set(cluster, "group", groupId, broker), "cannot set the coordinator of \(groupId)"
        )
    }

    private func check(_ err: rd_kafka_resp_err_t, _ context: String) throws(KafkaError) {
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: context) }
    }
}

/// Kafka protocol API keys, for ``EmbeddedKafka/pushRequestErrors(_:_:)``.
public struct KafkaAPIKey: Hashable, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let produce = KafkaAPIKey(rawValue: 0)
    public static let fetch = KafkaAPIKey(rawValue: 1)
    public static let listOffsets = KafkaAPIKey(rawValue: 2)
    public static let metadata = KafkaAPIKey(rawValue: 3)
    public static let offsetCommit = KafkaAPIKey(rawValue: 8)
    public static let offsetFetch = KafkaAPIKey(rawValue: 9)
    public static let findCoordinator = KafkaAPIKey(rawValue: 10)
    public static let joinGroup = KafkaAPIKey(rawValue: 11)
    public static let heartbeat = KafkaAPIKey(rawValue: 12)
    public static let syncGroup = KafkaAPIKey(rawValue: 14)
    public static let initProducerId = KafkaAPIKey(rawValue: 22)

    /// The APIs whose mock handlers serve injected errors in librdkafka 2.0.2 (Metadata's does not): Produce,
    /// Fetch, ListOffsets, OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup,
    /// SyncGroup, ApiVersion, InitProducerId and the transactional ones.
    static let withInjectableErrors: [KafkaAPIKey] = [0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 18, 22, 24, 25, 26, 28].map {
        KafkaAPIKey(rawValue: $0)
    }
}

extension KafkaError.Code {
    /// The connection broke (injected: the broker disconnects instead of answering).
    public static let transport = librdkafka(RD_KAFKA_RESP_ERR__TRANSPORT.rawValue)
    public static let notLeaderForPartition = librdkafka(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue)
    public static let requestTimedOut = librdkafka(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue)
    public static let notEnoughReplicas = librdkafka(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue)
    public static let coordinatorNotAvailable = librdkafka(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE.rawValue)
    public static let rebalanceInProgress = librdkafka(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue)
    public static let outOfOrderSequenceNumber = librdkafka(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER.rawValue)
}
