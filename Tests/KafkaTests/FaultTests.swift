import Kafka
import Synchronization
import Testing

@Suite("Broker faults")
struct FaultTests {
    @Test func aBrokerTakenDownAndBroughtBackLosesNothing() async throws {
        let kafka = try KafkaFixture(partitions: 2)
        let producer = try kafka.producer()
        let consumer = try kafka.consumer(group: "outage")
        try await kafka.produce(producer, count: 50, prefix: "before")
        var received = try await poll(consumer) { $0.count >= 50 }
        try await consumer.commit(nextOffsets(received))

        kafka.cluster.beginOutage()
        // Records sent during the outage wait in the producer; none is delivered while the broker is down.
        let during = (0..<50).map {
            ProducerMessage(topic: kafka.topic, key: Array("k\($0)".utf8), value: Array("during-\($0)".utf8))
        }
        async let reports = producer.send(during)
        try await eventually("records queued while the broker is down") { producer.pendingCount == 50 }
        let whileDown = try await consumer.poll() + consumer.poll()
        #expect(whileDown.isEmpty)
        // The outage itself: a fixed fault duration, not a wait for a condition.
        try await Task.sleep(for: .seconds(2))
        #expect(producer.pendingCount == 50)
        kafka.cluster.endOutage()

        let results = await reports
        #expect(results.allSatisfy { (try? $0.get()) != nil }, "every record sent during the outage is delivered")
        received += try await poll(consumer) { $0.count >= 50 }
        // The outage may have cost the member its group membership: the commit succeeds once it rejoins. As the
        // worker does, commit again only after the group has assigned the partitions anew: a commit sent while
        // the member is rejoining carries no member id and sends it back to the start of the join.
        var rejoined = false
        try await eventually("commit accepted after the member rejoined") {
            do {
                try await consumer.commit(nextOffsets(received))
                return true
            } catch let error as KafkaError where error.isRetryable {
                rejoined = true
                try await eventually("partitions assigned again") {
                    received += try await consumer.poll()
                    return !consumer.memberId.isEmpty && consumer.assignment.count == 2
                }
                return false
            }
        }
        let texts = received.map(\.text)
        #expect(Set(texts) == Set((0..<50).map { "before-\($0)" } + (0..<50).map { "during-\($0)" }))
        if rejoined {
            // A member that lost its partitions reads again from the committed offsets: what was committed before
            // the outage never comes back, what was not comes back once more at most.
            #expect(texts.filter { $0.hasPrefix("before-") }.count == 50, "committed records are not read again")
            #expect(Dictionary(grouping: texts, by: { $0 }).values.allSatisfy { $0.count <= 2 })
        } else {
            #expect(texts.count == 100, "no duplicates after reconnecting")
        }
        await consumer.close()
        try await producer.shutdown()
    }

    @Test func injectedProduceErrorsAreRetriedWithoutDuplicatesOrReordering() async throws {
        let kafka = try KafkaFixture(partitions: 1)
        let producer = try kafka.producer(properties: ["retry.backoff.ms": "10"])
        try await kafka.produce(producer, count: 5, prefix: "warmup")
        kafka.cluster.pushRequestErrors(
            .produce,
            [.notLeaderForPartition, .requestTimedOut, .transport, .notEnoughReplicas, .transport, .requestTimedOut]
        )
        let reports = try await kafka.produce(producer, count: 200, prefix: "retried")
        #expect(reports.map(\.offset) == (5..<205).map(Int64.init), "offsets follow send order")

        let consumer = try kafka.consumer(group: "retries")
        let received = try await poll(consumer) { $0.count >= 205 }
        for _ in 0..<3 { #expect(try await consumer.poll().isEmpty, "no duplicate appears later") }
        #expect(received.map(\.text) == (0..<5).map { "warmup-\($0)" } + (0..<200).map { "retried-\($0)" })
        await consumer.close()
        try await producer.shutdown()
    }

    @Test func undeliverableRecordsFailWithAClearErrorAtShutdownInsteadOfHanging() async throws {
        let kafka = try KafkaFixture(partitions: 1)
        let producer = try KafkaProducer(
            configuration: .init(
                cluster: .init(bootstrapServers: kafka.cluster.bootstrapServers), flushTimeout: .milliseconds(300)),
            logger: testLogger
        )
        try await kafka.produce(producer, count: 1)
        kafka.cluster.beginOutage()
        let stuck = OutcomeBox()
        try producer.send(ProducerMessage(topic: kafka.topic, value: Array("lost".utf8))) { stuck.set($0) }
        try await eventually("record queued") { producer.pendingCount == 1 }
        let shutdownError = await #expect(throws: KafkaError.self) { try await producer.shutdown() }
        #expect(shutdownError?.code == .timedOut)
        #expect(shutdownError?.message.contains("1 records undelivered") == true)
        let outcome = try #require(stuck.get(), "the waiting sender learns the outcome")
        #expect(throws: KafkaError.self, "the record is reported as not delivered") { try outcome.get() }
    }
}

final class OutcomeBox: Sendable {
    private let value = Mutex<Result<DeliveryReport, KafkaError>?>(nil)
    func set(_ result: Result<DeliveryReport, KafkaError>) { value.withLock { $0 = result } }
    func get() -> Result<DeliveryReport, KafkaError>? { value.withLock { $0 } }
}
