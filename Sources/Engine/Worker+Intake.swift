import DequeModule
import Foundation
import Kafka
import Routing

/// Intake: records are polled, read ahead into a bounded queue, decoded, routed and admitted into the lanes.
extension Worker {
    /// A record read ahead of admission, with its partition's assignment generation when it was read.
    struct ReadAhead {
        var message: KafkaMessage
        var generation: UInt64
    }

    /// Reads records ahead into a bounded queue and admits them while fewer than `maxInFlight` deliveries are
    /// in flight. The partitions are paused only when the queue is full and resumed once it is half empty, so
    /// the queue keeps the lanes busy while librdkafka restarts fetching after a resume (up to a second).
    func pollLoop(_ group: inout DiscardingTaskGroup) async {
        var paused = false
        var queue = Deque<ReadAhead>()
        var queuedBytes = 0
        while !state.withLock({ $0.draining }) {
            for item in state.withLock({ state in
                defer { state.incoming = [] }; return state.incoming
            }) {
                stats.admitted(1)
                await lanes.admit(item, key: item.laneKey, in: &group)
            }
            let now = self.now()
            while lanes.admitted < options.maxInFlight, let next = queue.popFirst() {
                queuedBytes -= next.message.value.count
                await handle(next.message, generation: next.generation, now: now, group: &group)
            }
            let full = queue.count >= options.readAhead || queuedBytes >= options.readAheadBytes
            if !paused, full {
                paused = true
                setPaused(true)
            } else if paused, queue.count <= options.readAhead / 2, queuedBytes <= options.readAheadBytes / 2 {
                paused = false
                setPaused(false)
            } else if paused, !consumer.assignment.isSubset(of: consumer.pausedPartitions) {
                setPaused(true)  // a rebalance assigned partitions, which start unpaused
            }
            let batch: [KafkaMessage]
            do {
                // With records waiting for room, come back soon to admit them.
                batch = try await consumer.poll(timeout: queue.isEmpty ? nil : .milliseconds(5))
            } catch {
                logger.error("Kafka consumer failed; stopping", metadata: ["error": "\(error)"])
                drain()
                break
            }
            guard !batch.isEmpty else { continue }
            stats.consumed(batch)
            let generations = state.withLock { $0.generations }
            for message in batch {
                // A record of a partition no longer ours is left to its new owner.
                guard let generation = generations[message.topicPartition] else { continue }
                queue.append(ReadAhead(message: message, generation: generation))
                queuedBytes += message.value.count
            }
        }
    }

    func setPaused(_ paused: Bool) {
        let partitions = consumer.assignment
        do {
            if paused { try consumer.pause(partitions) } else { try consumer.resume(partitions) }
            logger.debug(paused ? "read-ahead queue full: partitions paused" : "partitions resumed")
        } catch {
            logger.warning("cannot \(paused ? "pause" : "resume") partitions", metadata: ["error": "\(error)"])
        }
    }

    func handle(
        _ message: KafkaMessage, generation: UInt64, now: Date, group: inout DiscardingTaskGroup
    ) async {
        let partition = message.topicPartition
        // Read before a rebalance that took the partition away (even if it came back since): not ours.
        let current = state.withLock { state -> Bool in
            guard state.generations[partition] == generation, !state.revoking.contains(partition) else {
                return false
            }
            return state.tracker.start(partition, offset: message.offset)
        }
        guard current else { return }
        let record = InboundRecord(
            topic: message.topic, partition: message.partition, offset: message.offset, key: message.key,
            value: message.value, headers: message.headers.map { ($0.name, $0.value ?? []) },
            timestamp: message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) })
        let event: NotificationEvent
        do throws(EventDecodingError) {
            event = try decoder.decode(record)
        } catch {
            let ticket = RecordTicket(
                partition: partition, offset: message.offset, generation: generation, deliveries: 1)
            group.addTask { await self.deadLetter(record, error: error, ticket: ticket) }
            return
        }
        let routing = router.route(event, now: now)
        let count = routing.isUnroutable ? 1 : routing.deliveries.count + routing.rejections.count
        let ticket = RecordTicket(
            partition: partition, offset: message.offset, generation: generation, deliveries: count)
        if routing.isUnroutable {
            let outcome = DeliveryOutcome.unroutable(event: event, completedAt: now, worker: options.worker)
            group.addTask { await self.publishWithoutDelivery(outcome, traceparent: event.traceparent, ticket: ticket) }
            return
        }
        for rejection in routing.rejections {
            let outcome = DeliveryOutcome.rejected(rejection, event: event, completedAt: now, worker: options.worker)
            group.addTask { await self.publishWithoutDelivery(outcome, traceparent: event.traceparent, ticket: ticket) }
        }
        for delivery in routing.deliveries {
            let item = WorkItem(delivery: delivery, event: event, origin: .record(ticket), now: now)
            stats.admitted(1)
            await lanes.admit(item, key: item.laneKey, in: &group)
        }
    }
}
