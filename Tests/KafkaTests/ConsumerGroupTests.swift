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
        // Both members poll (and commit what they processed) until each owns part of the topic and all
        // 200 records are processed between them.
        var seenA: [KafkaMessage] = []
        var seenB: [KafkaMessage] = []
        try await eventually("both members own partitions and all records are processed") {
            async let batchA = a.poll()
            async let batchB = b.poll()
            let (newA, newB) = try await (batchA, batchB)
            try await a.commit(nextOffsets(newA))
            try await b.commit(nextOffsets(newB))
            seenA += newA
            seenB += newB
            return !a.assignment.isEmpty && !b.assignment.isEmpty && seenA.count + seenB.count >= 200
        }
        #expect(a.assignment.isDisjoint(with: b.assignment))
        #expect(a.assignment.union(b.assignment).count == 4)
        let ownedByB = b.assignment

        // B leaves; A takes over B's partitions and starts from B's committed offsets.
        await b.close()
        try await kafka.produce(producer, count: 100, prefix: "second")
        let afterLeave = try await poll(a) { received in
            received.filter { $0.text.hasPrefix("second") }.count >= 100 && a.assignment.count == 4
        }
        seenA += afterLeave
        #expect(a.assignment.count == 4)
        #expect(afterLeave.filter { ownedByB.contains($0.topicPartition) && $0.text.hasPrefix("first") }.isEmpty,
                "nothing B committed is delivered again")

        let all = seenA + seenB
        let keys = all.map { "\($0.partition)/\($0.offset)" }
        #expect(Set(keys).count == keys.count, "no record delivered twice")
        #expect(all.count == 300, "no record lost")
        await a.close()
        try await producer.shutdown()
    }

    @Test func revokeRunsBeforeThePartitionIsTakenAwayAndItsCommitSticks() async throws {
        let kafka = try KafkaFixture(partitions: 2)
        let producer = try kafka.producer()
        try await kafka.produce(producer, count: 60, prefix: "old")

        // A processes everything without committing; it commits only in its revoke handler.
        let processed = Mutex<[KafkaMessage]>([])
        let revokeObservations = Mutex<[(revoked: [TopicPartition], stillAssigned: Bool, commitError: KafkaError?)]>([])
        let consumerA = Mutex<KafkaConsumer?>(nil)
        let a = try kafka.consumer(group: "revoke") { event in
            guard case .revoked(let partitions) = event, let a = consumerA.withLock({ $0 }) else { return }
            let stillAssigned = Set(partitions).isSubset(of: a.assignment)
            let offsets = nextOffsets(processed.withLock { $0 }).filter { partitions.contains($0.topicPartition) }
            // As the engine does: retry a retryable commit failure within a short bound.
            var commitError: KafkaError?
            let deadline = ContinuousClock.now + .seconds(5)
            repeat {
                do {
                    try await a.commit(offsets)
                    commitError = nil
                } catch let error as KafkaError {
                    commitError = error
                    guard error.isRetryable else { break }
                    try? await Task.sleep(for: .milliseconds(100))
                } catch {}
            } while commitError != nil && ContinuousClock.now < deadline
            revokeObservations.withLock { $0.append((partitions, stillAssigned, commitError)) }
        }
        consumerA.withLock { $0 = a }
        let old = try await poll(a) { $0.count >= 60 }
        processed.withLock { $0 = old }
        #expect(a.assignment.count == 2)

        // B joins: cooperative-sticky moves one partition from A to B through A's revoke handler.
        let b = try kafka.consumer(group: "revoke")
        var seenB: [KafkaMessage] = []
        try await eventually("B owns a partition") {
            async let batchA = a.poll()
            async let batchB = b.poll()
            let (newA, newB) = try await (batchA, batchB)
            #expect(newA.isEmpty, "A has nothing new to read")
            seenB += newB
            return !b.assignment.isEmpty && a.assignment.count == 1
        }
        let observations = revokeObservations.withLock { $0 }
        let moved = try #require(observations.first)
        #expect(moved.stillAssigned, "the revoked partition is still assigned while the handler runs")
        #expect(moved.commitError == nil, "a commit made in the handler succeeds")
        #expect(Set(moved.revoked) == b.assignment)

        // B starts from A's commit: it sees only records produced from now on.
        try await kafka.produce(producer, count: 40, prefix: "new")
        try await eventually("all new records are read") {
            async let batchA = a.poll()
            async let batchB = b.poll()
            let (newA, newB) = try await (batchA, batchB)
            seenB += newB
            processed.withLock { $0 += newA }
            return processed.withLock { $0 }.count + seenB.count >= 100
        }
        #expect(seenB.allSatisfy { $0.text.hasPrefix("new") }, "B re-read \(seenB.filter { $0.text.hasPrefix("old") }.count) old records")
        let committedForB = try await b.committed(Array(b.assignment))
        let expected = nextOffsets(old).filter { b.assignment.contains($0.topicPartition) }
        for entry in expected {
            #expect(committedForB[entry.topicPartition] == entry.offset)
        }
        await a.close()
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
