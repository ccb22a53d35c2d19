import Kafka
import Synchronization
import Testing

@Suite("Consumer groups, rebalances and commits")
struct ConsumerGroupTests {
    @Test func twoMembersSplitThePartitionsAndTheSurvivorResumesFromCommittedOffsets() async throws {
        let kafka = try KafkaFixture(partitions: 4)
        let producer = try kafka.producer()
        try await kafka.produce(producer, count: 200, prefix: "first")

        let a = try kafka.consumer(group: "split")
        let b = try kafka.consumer(group: "split")
        let ledger = CommitLedger()
        // Both members poll, and commit what they processed, until each owns part of the topic and all
        // 200 records are processed between them.
        try await eventually("both members own partitions and all records are processed") {
            async let batchA = a.poll()
            async let batchB = b.poll()
            let (newA, newB) = try await (batchA, batchB)
            try await ledger.process(newA, by: a)
            try await ledger.process(newB, by: b)
            return !a.assignment.isEmpty && !b.assignment.isEmpty && ledger.distinct(prefix: "first") == 200
        }
        #expect(a.assignment.isDisjoint(with: b.assignment))
        #expect(a.assignment.union(b.assignment).count == 4)

        // B leaves; A takes over B's partitions and starts from B's committed offsets.
        await b.close()
        try await kafka.produce(producer, count: 100, prefix: "second")
        try await eventually("A owns every partition and read every new record") {
            try await ledger.process(a.poll(), by: a)
            return a.assignment.count == 4 && ledger.distinct(prefix: "second") == 100
        }
        #expect(
            ledger.redeliveredPastCommit.isEmpty, "re-delivered after being committed: \(ledger.redeliveredPastCommit)")
        #expect(ledger.distinct(prefix: "first") + ledger.distinct(prefix: "second") == 300, "no record lost")
        await a.close()
        try await producer.shutdown()
    }

    @Test func revokeRunsBeforeThePartitionIsTakenAwayAndItsCommitSticks() async throws {
        let kafka = try KafkaFixture(partitions: 2)
        let producer = try kafka.producer()
        try await kafka.produce(producer, count: 60, prefix: "old")

        // A processes everything without committing; it commits only in its revoke handler, which runs when
        // it leaves the group. (A rebalance triggered by a joining member revokes the same way, but librdkafka's
        // mock coordinator refuses commits while it is already collecting the next JoinGroup round, so that
        // path is not deterministic here.)
        let processed = Mutex<[KafkaMessage]>([])
        let revokeObservations = Mutex<[(revoked: [TopicPartition], stillAssigned: Bool, commitError: KafkaError?)]>([])
        let consumerA = Mutex<KafkaConsumer?>(nil)
        let a = try kafka.consumer(group: "revoke") { event in
            guard case .revoked(let partitions) = event, let a = consumerA.withLock({ $0 }) else { return }
            let stillAssigned = Set(partitions).isSubset(of: a.assignment)
            let offsets = nextOffsets(processed.withLock { $0 }).filter { partitions.contains($0.topicPartition) }
            var commitError: KafkaError?
            do { try await a.commit(offsets) } catch let error as KafkaError { commitError = error } catch {}
            revokeObservations.withLock { $0.append((partitions, stillAssigned, commitError)) }
        }
        consumerA.withLock { $0 = a }
        let old = try await poll(a) { $0.count >= 60 }
        processed.withLock { $0 = old }
        #expect(a.assignment.count == 2)

        await a.close()
        let observations = revokeObservations.withLock { $0 }
        let revoked = try #require(observations.first)
        #expect(Set(revoked.revoked).count == 2)
        #expect(revoked.stillAssigned, "the revoked partitions are still assigned while the handler runs")
        #expect(
            revoked.commitError == nil,
            "a commit made in the handler succeeds: \(String(describing: revoked.commitError))")
        #expect(a.assignment.isEmpty, "after the handler returns the partitions are gone")

        // B takes over from A's commit: it sees only records produced from now on.
        let b = try kafka.consumer(group: "revoke")
        try await eventually("B owns both partitions") {
            let batch = try await b.poll()
            #expect(batch.isEmpty, "B re-reads nothing A committed")
            return b.assignment.count == 2
        }
        let committed = try await b.committed(Array(b.assignment))
        for entry in nextOffsets(old) {
            #expect(committed[entry.topicPartition] == entry.offset)
        }
        try await kafka.produce(producer, count: 40, prefix: "new")
        let seenB = try await poll(b) { $0.count >= 40 }
        #expect(seenB.map(\.text).sorted() == (0..<40).map { "new-\($0)" }.sorted())
        await b.close()
        try await producer.shutdown()
    }

    @Test func pauseStopsDeliveryForExactlyThePausedPartitionsUntilResumed() async throws {
        let kafka = try KafkaFixture(partitions: 2)
        let producer = try kafka.producer()
        let consumer = try kafka.consumer(group: "pause")
        try await eventually("partitions assigned") {
            _ = try await consumer.poll()
            return consumer.assignment.count == 2
        }
        let paused = TopicPartition(topic: kafka.topic, partition: 0)
        try consumer.pause([paused])
        #expect(consumer.pausedPartitions == [paused])

        try await kafka.produce(producer, count: 20, prefix: "p0", partition: 0)
        try await kafka.produce(producer, count: 20, prefix: "p1", partition: 1)
        var received = try await poll(consumer) { $0.filter { $0.partition == 1 }.count >= 20 }
        // Records of partition 0 were produced first; a few more polls give them every chance to leak.
        for _ in 0..<5 { received += try await consumer.poll() }
        #expect(received.filter { $0.partition == 0 }.isEmpty, "a paused partition delivers nothing")
        #expect(received.count == 20)

        try consumer.resume([paused])
        #expect(consumer.pausedPartitions.isEmpty)
        let resumed = try await poll(consumer) { $0.count >= 20 }
        #expect(resumed.map(\.text) == (0..<20).map { "p0-\($0)" }, "resume continues where the partition stopped")
        let lag = await consumer.lag()
        #expect(lag.count == 2)
        #expect(lag.allSatisfy { $0.highWatermark == 20 && $0.lag == 20 }, "nothing committed yet: \(lag)")
        try await consumer.commit(nextOffsets(received + resumed))
        #expect(await consumer.lag().allSatisfy { $0.lag == 0 && $0.committedOffset == 20 })
        await consumer.close()
        try await producer.shutdown()
    }
}

/// What the members of a group processed and committed, to check at-least-once without loss: a record may
/// come again after a rebalance only if no commit covered it yet.
final class CommitLedger {
    private var committed: [TopicPartition: Int64] = [:]
    private var seen: Set<String> = []
    private(set) var redeliveredPastCommit: [String] = []

    /// Records `batch` as processed, then commits it as the delivery engine does: only partitions the member
    /// still owns, and a commit refused during a rebalance is left for the next one.
    func process(_ batch: [KafkaMessage], by consumer: KafkaConsumer) async throws {
        for message in batch {
            if message.offset < committed[message.topicPartition, default: 0] {
                redeliveredPastCommit.append("\(message.topicPartition)@\(message.offset)")
            }
            seen.insert(message.text)
        }
        let offsets = nextOffsets(batch).filter { consumer.assignment.contains($0.topicPartition) }
        do {
            try await consumer.commit(offsets)
        } catch {
            guard error.isRetryable else { throw error }
            return
        }
        for entry in offsets {
            committed[entry.topicPartition] = max(committed[entry.topicPartition, default: 0], entry.offset)
        }
    }

    func distinct(prefix: String) -> Int {
        seen.filter { $0.hasPrefix(prefix) }.count
    }
}
