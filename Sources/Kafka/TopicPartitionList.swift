import CRdKafka

/// Conversions between Swift values and `rd_kafka_topic_partition_list_t`.
enum TopicPartitionList {
    /// Creates a list the caller must destroy with `rd_kafka_topic_partition_list_destroy`.
    static func make(
        _ offsets: some Collection<TopicPartitionOffset>
    ) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for entry in offsets {
            rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition).pointee.offset = entry.offset
        }
        return list
    }

    static func make(
        _ partitions: some Collection<TopicPartition>
    ) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(
            partitions.map {
                TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: Int64(RD_KAFKA_OFFSET_INVALID))
            })
    }

    /// Calls `body` with a temporary list.
    static func with<T>(
        _ offsets: some Collection<TopicPartitionOffset>,
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> T
    ) throws(KafkaError) -> T {
        let list = make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try body(list)
    }

    static func entries(
        _ list: UnsafePointer<rd_kafka_topic_partition_list_t>
    ) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    static func offsets(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartitionOffset] {
        entries(list).map {
            TopicPartitionOffset(topic: String(cString: $0.topic), partition: $0.partition, offset: $0.offset)
        }
    }

    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        entries(list).map { TopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// The first per-partition error in `list`, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, context: String) -> KafkaError? {
        for entry in entries(list) where entry.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(entry.err, context: "\(context) \(String(cString: entry.topic))/\(entry.partition)")
        }
        return nil
    }
}
