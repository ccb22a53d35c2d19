import CRdKafka

extension KafkaProducer {
    /// Fetches the metadata of `topics` and returns each one's partition count.
    ///
    /// librdkafka learns about a topic only when the first record for it is produced, and then looks it up on
    /// its once-a-second topic scan, so the first records wait up to a second. A worker calls this at
    /// start-up for the topics it writes to: the first outcomes go out at once, and a topic the cluster
    /// reports an error for (unknown topic, not authorized) stops start-up with a clear error instead of
    /// records timing out later.
    public func prepare(topics: [String], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String: Int] {
        let client = self.client
        let ms = timeout.milliseconds
        let result = await runBlocking(on: blockingQueue) { () -> Result<[String: Int], KafkaError> in
            var partitions: [String: Int] = [:]
            for topic in topics {
                switch client.withHandle({ Self.partitionCount(of: topic, rk: $0, timeoutMilliseconds: ms) }) {
                case .success(let count): partitions[topic] = count
                case .failure(let error): return .failure(error)
                }
            }
            return .success(partitions)
        }
        return try result.get()
    }

    private static func partitionCount(
        of topic: String, rk: OpaquePointer, timeoutMilliseconds: Int32
    ) -> Result<Int, KafkaError> {
        guard let handle = rd_kafka_topic_new(rk, topic, nil) else {
            return .failure(KafkaError(rd_kafka_last_error(), context: "cannot use topic \(topic)"))
        }
        defer { rd_kafka_topic_destroy(handle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, handle, &metadata, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            return .failure(KafkaError(err, context: "cannot read metadata of topic \(topic)"))
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt == 1, let entry = metadata.pointee.topics?.pointee else {
            return .failure(
                KafkaError(
                    code: .librdkafka(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC.rawValue),
                    message: "topic \(topic) is unknown to the cluster"))
        }
        guard entry.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return .failure(KafkaError(entry.err, context: "topic \(topic)"))
        }
        guard entry.partition_cnt > 0 else {
            return .failure(
                KafkaError(
                    code: .librdkafka(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC.rawValue),
                    message: "topic \(topic) has no partitions", isRetryable: true))
        }
        return .success(Int(entry.partition_cnt))
    }
}
