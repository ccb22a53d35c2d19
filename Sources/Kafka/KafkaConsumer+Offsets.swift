import CRdKafka

extension KafkaConsumer {
    /// Commits explicit offsets (each the *next* offset to read: last processed + 1) and waits for the
    /// coordinator's answer. Safe to call from a rebalance handler for partitions being revoked.
    public func commit(_ offsets: [TopicPartitionOffset]) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        if state.isClosed { throw .closed("Kafka consumer") }
        let client = self.client
        let error = await runBlocking(on: commitQueue) { () -> KafkaError? in
            client.withHandle { rk in
                let list = TopicPartitionList.make(offsets)
                defer { rd_kafka_topic_partition_list_destroy(list) }
                let err = rd_kafka_commit(rk, list, 0)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    return KafkaError(err, context: "offset commit failed")
                }
                return TopicPartitionList.firstError(list, context: "offset commit failed for")
            }
        }
        if let error { throw error }
        state.committed(offsets)
    }

    /// Asks the group coordinator for the committed offsets of `partitions`; `nil` offset = none committed.
    public func committed(
        _ partitions: [TopicPartition], timeout: Duration = .seconds(5)
    ) async throws(KafkaError) -> [TopicPartition: Int64?] {
        guard !partitions.isEmpty else { return [:] }
        let client = self.client
        let ms = timeout.milliseconds
        let result = await runBlocking(on: commitQueue) { () -> Result<[TopicPartition: Int64?], KafkaError> in
            client.withHandle { rk in
                let list = TopicPartitionList.make(partitions)
                defer { rd_kafka_topic_partition_list_destroy(list) }
                let err = rd_kafka_committed(rk, list, ms)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    return .failure(KafkaError(err, context: "cannot read committed offsets"))
                }
                if let error = TopicPartitionList.firstError(list, context: "cannot read committed offset of") {
                    return .failure(error)
                }
                var offsets: [TopicPartition: Int64?] = [:]
                for entry in TopicPartitionList.offsets(list) {
                    offsets[entry.topicPartition] = entry.offset >= 0 ? entry.offset : nil
                }
                return .success(offsets)
            }
        }
        return try result.get()
    }

    /// Lag of every assigned partition: the high watermark last seen by a fetch minus the group's committed
    /// offset. Committed offsets this member did not commit itself are asked of the coordinator.
    public func lag() async -> [PartitionLag] {
        let partitions = assignment.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        let unknown = partitions.filter { state.committedOffset($0) == nil }
        let fetched = (try? await committed(unknown)) ?? [:]
        return partitions.map { partition in
            let committed = state.committedOffset(partition) ?? (fetched[partition] ?? nil)
            var low: Int64 = -1
            var high: Int64 = -1
            let err = client.withHandle {
                rd_kafka_get_watermark_offsets($0, partition.topic, partition.partition, &low, &high)
            }
            let highWatermark = err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
            let lag = highWatermark.map { max(0, $0 - (committed ?? max(0, low))) }
            return PartitionLag(
                topicPartition: partition, committedOffset: committed, highWatermark: highWatermark, lag: lag)
        }
    }

    /// Stops fetching from `partitions` (backpressure) until ``resume(_:)``; records already fetched are
    /// still returned by the next polls.
    public func pause(_ partitions: some Collection<TopicPartition>) throws(KafkaError) {
        try setPaused(partitions, paused: true)
    }

    /// Restarts fetching from `partitions` where it stopped.
    public func resume(_ partitions: some Collection<TopicPartition>) throws(KafkaError) {
        try setPaused(partitions, paused: false)
    }

    private func setPaused(_ partitions: some Collection<TopicPartition>, paused: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let what = paused ? "pause" : "resume"
        let err = client.withHandle {
            paused ? rd_kafka_pause_partitions($0, list) : rd_kafka_resume_partitions($0, list)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "cannot \(what) partitions") }
        if let error = TopicPartitionList.firstError(list, context: "cannot \(what)") { throw error }
        if paused { state.paused(partitions) } else { state.resumed(partitions) }
    }
}
