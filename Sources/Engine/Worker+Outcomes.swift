import Foundation
import Kafka
import Logging
import Routing
import Store

/// Outcomes: what is published on the outcomes and dead-letter topics, and the ledger notes that keep a
/// record read again from publishing twice.
extension Worker {
    // MARK: Records without a delivery

    /// An undecodable record: unchanged to the dead-letter topic, then a `rejected` outcome.
    func deadLetter(_ record: InboundRecord, error: EventDecodingError, ticket: RecordTicket) async {
        let outcome = DeliveryOutcome.rejected(
            record: record, error: error, completedAt: now(), worker: options.worker)
        guard await needsPublishing(outcome, ticket: ticket) else { return }
        logger.notice(
            "record cannot be decoded; sent to the dead-letter topic",
            metadata: ["input": "\(record.coordinates)", "code": "\(error.code)"])
        let letter = ProducerMessage(
            topic: options.deadLetterTopic, key: record.key, value: record.value,
            headers: error.deadLetterHeaders(for: record).map { KafkaHeader(name: $0.name, value: $0.value) })
        guard await produceDeadLetter(letter, ticket: ticket) else { return }
        await publishWithoutDelivery(outcome, traceparent: nil, ticket: ticket, checked: true)
    }

    /// Produces `letter` on the dead-letter topic (see ``produceUntilDone(_:ticket:fallback:)``) and counts it. A
    /// letter Kafka will not take (too large for the topic) goes without its value, its size in a header.
    func produceDeadLetter(_ letter: ProducerMessage, ticket: RecordTicket?) async -> Bool {
        var stripped = letter
        stripped.value = nil
        stripped.headers.append(KafkaHeader(name: "herald-value-dropped", string: "\(letter.value?.count ?? 0) bytes"))
        guard await produceUntilDone(letter, ticket: ticket, fallback: stripped) else { return false }
        stats.deadLettered()
        return true
    }

    /// Publishes an outcome that involved no delivery (unroutable, rejected) once per record, then counts the
    /// record down: the ledger notes it, so the record read again (a crash, a rebalance) publishes nothing.
    /// `checked`: ``needsPublishing(_:ticket:)`` was asked already.
    func publishWithoutDelivery(
        _ outcome: DeliveryOutcome, traceparent: String?, ticket: RecordTicket, checked: Bool = false
    ) async {
        if !checked {
            guard await needsPublishing(outcome, ticket: ticket) else { return }
        }
        guard await publish(outcome, traceparent: traceparent, ticket: ticket) else { return }
        let metadata = deliveryLogMetadata(deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: nil)
        let (id, input) = (outcome.deliveryId, outcome.input.coordinates)
        guard
            await untilStored(
                ticket, metadata: metadata, { try await self.ledger.markOutcomePublished(id, input: input) })
                != nil
        else { return }
        finish(ticket)
    }

    /// False when `outcome` was published for this same record before (the record is read again: it counts as
    /// replayed and the record is done), or when the record's partition went away while the store did not answer.
    func needsPublishing(_ outcome: DeliveryOutcome, ticket: RecordTicket) async -> Bool {
        let metadata = deliveryLogMetadata(deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: nil)
        let id = outcome.deliveryId
        guard let claim = await untilStored(ticket, metadata: metadata, { try await self.ledger.claim(id) }) else {
            return false
        }
        guard case .outcomePublished(let entry) = claim, entry.input == outcome.input.coordinates else { return true }
        stats.replayed()
        finish(ticket)
        return false
    }

    // MARK: Publishing

    /// Publishes `outcome` on the outcomes topic, retrying until Kafka takes it or the record's partition is
    /// no longer ours. Returns whether it was published.
    func publish(_ outcome: DeliveryOutcome, traceparent: String?, ticket: RecordTicket?) async -> Bool {
        let value: [UInt8]
        do {
            value = try outcome.jsonBytes()
        } catch {
            logger.error(
                "cannot encode an outcome",
                metadata: deliveryLogMetadata(
                    deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: traceparent))
            return false
        }
        let message = ProducerMessage(
            topic: options.outcomesTopic, key: Array(outcome.eventId.utf8), value: value,
            headers: traceparent.map { [KafkaHeader(name: "traceparent", string: $0)] } ?? [])
        guard await produceUntilDone(message, ticket: ticket) else { return false }
        stats.published(outcome)
        logger.debug(
            "outcome published",
            metadata: deliveryLogMetadata(
                deliveryId: outcome.deliveryId, eventId: outcome.eventId, traceparent: traceparent
            ).merging(
                ["status": .string(outcome.status.rawValue), "code": .string(outcome.error?.code ?? "none")],
                uniquingKeysWith: { $1 }))
        return true
    }

    /// Produces `message`, retrying while the record's partition is ours; after an error retrying cannot fix,
    /// `fallback` is produced instead (when given).
    func produceUntilDone(
        _ message: ProducerMessage, ticket: RecordTicket?, fallback: ProducerMessage? = nil
    ) async -> Bool {
        var attempt = 0
        var message = message
        while true {
            do {
                _ = try await producer.send(message)
                return true
            } catch {
                attempt += 1
                if !error.isRetryable, let fallback {
                    logger.error(
                        "Kafka refused a record; producing it without its value", metadata: ["error": "\(error)"])
                    message = fallback
                }
                logger.error(
                    "cannot publish to \(message.topic); retrying",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                if let ticket, isStale(ticket) { return false }
                // Past the grace period of a drain: give up; the record stays uncommitted and is read again.
                if state.withLock({ $0.parking }) { return false }
                try? await options.clock.sleep(for: produceRetry.delay(afterFailures: attempt))
            }
        }
    }

    /// A stored deferred delivery this build cannot read (written by an incompatible version, or damaged): its
    /// stored bytes go to the dead-letter topic with the error, and only then does it leave the store. If Kafka
    /// does not take it before a drain, it stays stored and is claimed again when its lease ends.
    func deadLetter(_ deferral: DeferredDelivery, error: any Error) async {
        logger.error(
            "a stored deferred delivery cannot be read; sent to the dead-letter topic",
            metadata: ["id": "\(deferral.id)", "error": "\(error)"])
        let headers = [
            KafkaHeader(name: EventDecodingError.DeadLetterHeader.errorCode, string: "DeferredDeliveryUnreadable"),
            KafkaHeader(
                name: EventDecodingError.DeadLetterHeader.errorMessage,
                string: "stored deferred delivery unreadable: \(error)"),
            KafkaHeader(name: EventDecodingError.DeadLetterHeader.deferralId, string: deferral.id),
        ]
        let letter = ProducerMessage(
            topic: options.deadLetterTopic, key: Array(deferral.id.utf8), value: deferral.payload, headers: headers)
        guard await produceDeadLetter(letter, ticket: nil) else { return }
        do {
            try await ledger.completeDeferred(deferral.id)
        } catch {
            logger.error(
                "a dead-lettered deferred delivery is still stored; it will be dead-lettered again",
                metadata: ["id": "\(deferral.id)", "error": "\(error)"])
        }
    }
}
