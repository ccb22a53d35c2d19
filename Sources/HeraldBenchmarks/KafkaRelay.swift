import Kafka
import Logging

/// Moves records from one topic to another through a consumer-group member and the idempotent producer,
/// committing each batch only after all its records are delivered: Herald's consume → produce → commit
/// cycle without the Teams part.
struct KafkaRelay {
    struct Result {
        var records: Int
        var seconds: Double
        var perSecond: Double { Double(records) / seconds }
    }

    var cluster: KafkaClusterConfiguration
    var groupId: String
    var logger: Logger
    /// How often processed offsets are committed. Default: 100 ms.
    var commitInterval: Duration = .milliseconds(100)

    private func makeProducer() throws -> KafkaProducer {
        try KafkaProducer(configuration: .init(cluster: cluster), logger: logger)
    }

    private func makeConsumer(group: String, topic: String) throws -> KafkaConsumer {
        let consumer = try KafkaConsumer(
            configuration: .init(cluster: cluster, groupId: group, topics: [topic]), logger: logger
        )
        try consumer.subscribe()
        return consumer
    }

    /// Produces `count` records of `size` bytes with a key and a header to `topic`, waiting for every delivery.
    /// Keys are distinct, so records spread evenly over the partitions (the embedded cluster keeps only about
    /// 5 MB per partition).
    func seed(topic: String, count: Int, size: Int) async throws -> Result {
        let producer = try makeProducer()
        _ = try await producer.prepare(topics: [topic])
        let clock = ContinuousClock()
        let started = clock.now
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        var pending: [PendingDeliveries] = []
        for start in stride(from: 0, to: count, by: 1000) {
            let chunk = (start..<min(count, start + 1000)).map { i in
                ProducerMessage(
                    topic: topic, key: Array("recipient-\(i)".utf8), value: body,
                    headers: [KafkaHeader(name: "ce_id", string: "event-\(i)")]
                )
            }
            pending.append(await producer.enqueue(chunk))
        }
        for chunk in pending {
            for result in await chunk.reports() { _ = try result.get() }
        }
        let elapsed = clock.now - started
        try await producer.shutdown()
        return Result(records: count, seconds: seconds(elapsed))
    }

    /// Relays `count` records from `source` to `destination`; the clock starts at the first record read.
    func relay(from source: String, to destination: String, count: Int) async throws -> Result {
        let consumer = try makeConsumer(group: groupId, topic: source)
        let producer = try makeProducer()
        _ = try await producer.prepare(topics: [destination])
        let (batches, inFlight) = AsyncStream.makeStream(of: ([TopicPartitionOffset], PendingDeliveries, Int).self)
        let clock = ContinuousClock()
        var started: ContinuousClock.Instant?
        let finished = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
            // Commits run behind the reads, in order, covering only fully delivered batches; like the
            // delivery engine, they are coalesced to one commit per interval rather than one per batch.
            group.addTask {
                var committed = 0
                var uncommitted: [TopicPartition: Int64] = [:]
                var lastCommit = clock.now
                for await (offsets, pending, size) in batches {
                    for report in await pending.reports() { _ = try report.get() }
                    for entry in offsets {
                        uncommitted[entry.topicPartition] = max(uncommitted[entry.topicPartition] ?? 0, entry.offset)
                    }
                    committed += size
                    if committed >= count || clock.now - lastCommit >= commitInterval {
                        try await consumer.commit(
                            uncommitted.map {
                                TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value)
                            })
                        uncommitted = [:]
                        lastCommit = clock.now
                    }
                    if committed >= count { break }
                }
                return clock.now
            }
            var read = 0
            var progress = Progress(what: "relaying \(source)", expected: count)
            while read < count {
                let batch = try await consumer.poll()
                try progress.record(batch.count)
                guard !batch.isEmpty else { continue }
                if started == nil { started = clock.now }
                let pending = await producer.enqueue(
                    batch.map { ProducerMessage(topic: destination, key: $0.key, value: $0.value, headers: $0.headers) }
                )
                inFlight.yield((nextOffsets(after: batch), pending, batch.count))
                read += batch.count
            }
            inFlight.finish()
            return try await group.next()!
        }
        await consumer.close()
        try await producer.shutdown()
        return Result(records: count, seconds: seconds(finished - started!))
    }

    /// Publishes `count` CloudEvents (structured JSON) keyed by recipient, with a `ce_id` header.
    func publishSampleEvents(topic: String, count: Int, recipients: Int) async throws -> Result {
        let producer = try makeProducer()
        _ = try await producer.prepare(topics: [topic])
        let clock = ContinuousClock()
        let started = clock.now
        let messages = (0..<count).map { i in
            let recipient = "user-\(i % recipients)"
            let event = """
                {"specversion":"1.0","id":"demo-\(i)","type":"com.example.helpdesk.ticket.assigned",\
                "source":"/helpdesk/demo","time":"2026-01-01T00:00:00Z","data":{"ticket":\(i),"assignee":"\(recipient)"}}
                """
            return ProducerMessage(
                topic: topic, key: Array(recipient.utf8), value: Array(event.utf8),
                headers: [KafkaHeader(name: "ce_id", string: "demo-\(i)")]
            )
        }
        for result in await producer.send(messages) { _ = try result.get() }
        let elapsed = clock.now - started
        try await producer.shutdown()
        return Result(records: count, seconds: seconds(elapsed))
    }

    /// Reads `topic` to its end through a fresh group and counts distinct `ce_id` headers.
    func verify(topic: String, expected: Int) async throws -> (records: Int, duplicates: Int, missing: Int) {
        let consumer = try makeConsumer(group: "\(groupId)-verify", topic: topic)
        var ids = Set<[UInt8]>()
        var records = 0
        var idlePolls = 0
        // Read until every expected record arrived and a few more polls bring nothing new.
        while idlePolls < 5 || (records < expected && idlePolls < 100) {
            let batch = try await consumer.poll()
            idlePolls = batch.isEmpty ? idlePolls + 1 : 0
            for message in batch {
                records += 1
                ids.insert(message.header("ce_id") ?? [])
            }
        }
        await consumer.close()
        return (records, records - ids.count, max(0, expected - ids.count))
    }

    /// Reads `count` records from `topic` and drops them; the clock starts at the first record read.
    func consume(topic: String, count: Int) async throws -> Result {
        let consumer = try makeConsumer(group: groupId, topic: topic)
        let clock = ContinuousClock()
        var started: ContinuousClock.Instant?
        var read = 0
        var progress = Progress(what: "reading \(topic)", expected: count)
        while read < count {
            let batch = try await consumer.poll()
            try progress.record(batch.count)
            if started == nil, !batch.isEmpty { started = clock.now }
            read += batch.count
            logger.trace("consumed", metadata: ["records": "\(read)"])
        }
        let elapsed = clock.now - started!
        await consumer.close()
        return Result(records: read, seconds: seconds(elapsed))
    }
}

/// Fails a read loop that has received nothing for `stallTimeout`, instead of waiting forever for records
/// that will not come (the embedded cluster drops the oldest records of a partition holding over 5 MB).
struct Progress {
    var what: String
    var expected: Int
    var stallTimeout: Duration = .seconds(30)
    private var received = 0
    private var lastProgress = ContinuousClock.now

    init(what: String, expected: Int) {
        self.what = what
        self.expected = expected
    }

    mutating func record(_ count: Int) throws {
        let now = ContinuousClock.now
        if count > 0 {
            received += count
            lastProgress = now
        } else if now - lastProgress > stallTimeout {
            throw BenchError("\(what): nothing received for \(stallTimeout) after \(received) of \(expected) records")
        }
    }
}

/// Per partition, the offset after the last record of `batch`: what to commit once it is processed.
func nextOffsets(after batch: [KafkaMessage]) -> [TopicPartitionOffset] {
    var next: [TopicPartition: Int64] = [:]
    for message in batch {
        next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1)
    }
    return next.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
}

func seconds(_ duration: Duration) -> Double {
    let (whole, fraction) = duration.components
    return Double(whole) + Double(fraction) / 1e18
}
