import Kafka
import Testing

@Suite("Produce and consume over TCP")
struct RoundTripTests {
    @Test func keysHeadersAndTimestampsSurviveTheRoundTripAcrossPartitions() async throws {
        let kafka = try KafkaFixture(partitions: 3)
        let producer = try kafka.producer()
        let baseTime: Int64 = 1_700_000_000_000
        let sent = (0..<30).map { i in
            ProducerMessage(
                topic: kafka.topic,
                key: Array("tenant-\(i % 5)".utf8),
                value: Array("payload-\(i)".utf8),
                headers: [
                    KafkaHeader(name: "ce_id", string: "event-\(i)"),
                    KafkaHeader(name: "traceparent", string: "00-\(i)-01"),
                    KafkaHeader(name: "ce_id", string: "second-value-\(i)"),
                    KafkaHeader(name: "empty", value: nil),
                ],
                timestampMilliseconds: baseTime + Int64(i)
            )
        }
        let reports = try await producer.send(sent).map { try $0.get() }
        #expect(Set(reports.map(\.partition)).count > 1, "records should spread over several partitions")

        let consumer = try kafka.consumer()
        let received = try await poll(consumer) { $0.count >= 30 }
        #expect(received.count == 30)

        let byValue = Dictionary(uniqueKeysWithValues: received.map { ($0.text, $0) })
        for (i, message) in sent.enumerated() {
            let got = try #require(byValue["payload-\(i)"])
            #expect(got.key == message.key)
            #expect(got.headers == message.headers, "headers keep their order, duplicates and null values")
            #expect(got.timestampMilliseconds == baseTime + Int64(i))
            #expect(got.partition == reports[i].partition && got.offset == reports[i].offset)
        }
        // One key always lands on one partition, and each partition is read in offset order.
        let partitionsPerKey = Dictionary(grouping: received, by: { $0.key! }).mapValues { Set($0.map(\.partition)) }
        #expect(partitionsPerKey.values.allSatisfy { $0.count == 1 })
        for (_, messages) in Dictionary(grouping: received, by: \.partition) {
            #expect(messages.map(\.offset) == messages.map(\.offset).sorted())
        }
        await consumer.close()
        try await producer.shutdown()
    }

    @Test func aRecordTooLargeIsRefusedWithAClearError() async throws {
        let kafka = try KafkaFixture(partitions: 1)
        let producer = try kafka.producer(properties: ["message.max.bytes": "10000"])
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.send(ProducerMessage(topic: kafka.topic, value: Array(repeating: 1, count: 20000)))
        }
        #expect(error?.code == .librdkafka(10))  // MSG_SIZE_TOO_LARGE
        #expect(error?.message.contains(kafka.topic) == true)
        try await producer.shutdown()
    }

    @Test func aClosedProducerRefusesRecords() async throws {
        let kafka = try KafkaFixture(partitions: 1)
        let producer = try kafka.producer()
        try await kafka.produce(producer, count: 3)
        try await producer.shutdown()
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.send(ProducerMessage(topic: kafka.topic, value: [1]))
        }
        #expect(error?.code == .closed)
    }

    @Test func prepareReportsPartitionCountsAndNamesATopicTheClusterRefuses() async throws {
        let kafka = try KafkaFixture(partitions: 3)
        try kafka.cluster.createTopic("outcomes", partitions: 5)
        try kafka.cluster.createTopic("forbidden", partitions: 1)
        let producer = try kafka.producer()
        let partitions = try await producer.prepare(topics: [kafka.topic, "outcomes"])
        #expect(partitions == [kafka.topic: 3, "outcomes": 5])

        // 29: TOPIC_AUTHORIZATION_FAILED, what a cluster with ACLs answers for a topic Herald may not write.
        kafka.cluster.setTopicError("forbidden", .librdkafka(29))
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.prepare(topics: ["outcomes", "forbidden"])
        }
        #expect(error?.description.contains("topic forbidden") == true, "\(String(describing: error))")
        #expect(error?.description.contains("uthoriz") == true, "\(String(describing: error))")
        // The producer stays usable after a refused topic.
        try await kafka.produce(producer, count: 2)
        try await producer.shutdown()
    }
}
