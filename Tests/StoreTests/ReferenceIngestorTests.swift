import Foundation
import Kafka
import Store
import TestSupport
import Testing

@Suite("Reference ingestion from Kafka", .timeLimit(.minutes(2)))
struct ReferenceIngestorTests {
    @Test(arguments: Backend.allCases)
    func upsertsReferencesAndForgetsTombstonesThenCommits(_ backend: Backend) async throws {
        let kafka = try EmbeddedKafka(brokers: 1, logger: testLogger)
        try kafka.createTopic("references", partitions: 2)
        let cluster = KafkaClusterConfiguration(
            bootstrapServers: kafka.bootstrapServers,
            properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])
        let producer = try KafkaProducer(configuration: .init(cluster: cluster), logger: testLogger)
        let personal = BotFrameworkReferenceTests.personal
        let records: [ProducerMessage] = [
            ProducerMessage(topic: "references", key: nil, value: Array(personal.utf8)),
            ProducerMessage(topic: "references", key: Array("oncall".utf8), value: Array(personal.utf8)),
            ProducerMessage(topic: "references", key: Array("gone".utf8), value: Array(personal.utf8)),
            ProducerMessage(topic: "references", key: Array("junk".utf8), value: Array("not json".utf8)),
            ProducerMessage(topic: "references", key: Array("gone".utf8), value: []),  // tombstone
        ]
        for record in records { _ = try await producer.send(record) }
        try await producer.shutdown()

        try await withTestStore(backend) { store, _ in
            let ingestor = try ReferenceIngestor(
                cluster: cluster, groupId: "herald-references", topic: "references", store: store, logger: testLogger)
            try ingestor.consumer.subscribe()
            let seen = try await withDeadline(.seconds(60), "all five records") {
                var total = 0
                while total < records.count {
                    let batch = try await ingestor.consumer.poll()
                    if !batch.isEmpty { try await ingestor.ingest(batch) }
                    total += batch.count
                }
                return total
            }
            #expect(seen == records.count)
            #expect(try await store.reference(key: "user:aad:72f988bf-tenant/6c1d-aad")?.conversationId == "a:1xyz")
            #expect(try await store.reference(key: "oncall")?.conversationId == "a:1xyz")
            #expect(try await store.reference(key: "gone") == nil)
            #expect(try await store.reference(key: "junk") == nil)
            let committed = try await ingestor.consumer.committed([
                TopicPartition(topic: "references", partition: 0), TopicPartition(topic: "references", partition: 1),
            ])
            #expect(
                committed.values.compactMap { $0 }.reduce(0, +) == Int64(records.count),
                "offsets committed after the upsert")
            await ingestor.consumer.close()
        }
    }
}
