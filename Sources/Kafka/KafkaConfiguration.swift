/// How to reach a Kafka cluster, shared by consumers and producers.
public struct KafkaClusterConfiguration: Sendable {
    /// `host:port,...` of the bootstrap brokers.
    public var bootstrapServers: String
    /// Reported to brokers in logs and quotas. Default: `herald`.
    public var clientId: String
    /// Passed to librdkafka as-is (`security.protocol`, `sasl.*`, `ssl.*`, tuning). Default: none.
    /// Properties Herald manages itself (offset commits, idempotence) are rejected with a clear error.
    public var properties: [String: String]

    public init(bootstrapServers: String, clientId: String = "herald", properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.properties = properties
    }
}

/// Configuration of a consumer-group member.
public struct KafkaConsumerConfiguration: Sendable {
    public var cluster: KafkaClusterConfiguration
    /// The consumer group every worker of one deployment shares.
    public var groupId: String
    /// Topics to subscribe to.
    public var topics: [String]
    /// The most messages one poll returns. Default: 500.
    public var maxBatchSize: Int
    /// How long one poll waits for the first message. Default: 100 ms.
    public var pollTimeout: Duration

    public init(
        cluster: KafkaClusterConfiguration, groupId: String, topics: [String],
        maxBatchSize: Int = 500, pollTimeout: Duration = .milliseconds(100)
    ) {
        self.cluster = cluster
        self.groupId = groupId
        self.topics = topics
        self.maxBatchSize = maxBatchSize
        self.pollTimeout = pollTimeout
    }
}

/// Configuration of an idempotent producer.
public struct KafkaProducerConfiguration: Sendable {
    public var cluster: KafkaClusterConfiguration
    /// How long `shutdown()` waits for outstanding delivery reports. Default: 10 s.
    public var flushTimeout: Duration

    public init(cluster: KafkaClusterConfiguration, flushTimeout: Duration = .seconds(10)) {
        self.cluster = cluster
        self.flushTimeout = flushTimeout
    }
}

extension Duration {
    /// Whole milliseconds, clamped to `Int32`, as librdkafka's timeouts take them.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms))
    }
}
