import Foundation
import Kafka
import Logging
import Routing
import Synchronization

/// One record being worked on: its offset may be committed once every delivery planned from it has a
/// published outcome (``done()`` returned true for the last).
final class RecordTicket: Sendable {
    let partition: TopicPartition
    let offset: Int64
    /// The partition's assignment generation when the record was read; a later revoke makes it stale.
    let generation: UInt64
    private let remaining: Atomic<Int>

    init(partition: TopicPartition, offset: Int64, generation: UInt64, deliveries: Int) {
        self.partition = partition
        self.offset = offset
        self.generation = generation
        self.remaining = Atomic(deliveries)
    }

    /// One delivery is finished; true when it was the last.
    func done() -> Bool {
        remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0
    }
}

/// Where a work item came from, and so what finishing it means.
enum Origin: Sendable {
    /// A record of an events topic: finishing counts down its ticket.
    case record(RecordTicket)
    /// A due deferred delivery: finishing deletes the deferral.
    case deferred(id: String)
    /// A due digest's send: its outcome is each member's, and finishing completes (or, live, advances) it.
    case digest(DigestSend)
}

/// One delivery on its way through the pipeline.
///
/// A value whose fields live in one shared box: every async function on the delivery path keeps its
/// arguments in its task-allocated frame, so an inline item (about a kilobyte) was copied into each of them;
/// with thousands of deliveries in flight those frames were the worker's largest use of memory. Changing a
/// field (rare: fan-out members, due deferrals) copies the box.
struct WorkItem: Sendable {
    private struct Fields: Sendable {
        var delivery: Delivery
        var deliveryId: String
        var event: NotificationEvent
        var origin: Origin
        var startedAt: Date
        var wasDeferred: Bool
    }

    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    init(delivery: Delivery, event: NotificationEvent, origin: Origin, now: Date) {
        box = Box(
            Fields(
                delivery: delivery, deliveryId: delivery.deliveryId, event: event, origin: origin,
                startedAt: event.time.flatMap(RFC3339.parse) ?? now, wasDeferred: false))
    }

    private mutating func update(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    var delivery: Delivery {
        get { box.fields.delivery }
        set { update { $0.delivery = newValue } }
    }
    /// The ledger key (a team member's delivery has its own, see ``Delivery/deliveryId(forMember:)``).
    var deliveryId: String {
        get { box.fields.deliveryId }
        set { update { $0.deliveryId = newValue } }
    }
    var event: NotificationEvent { box.fields.event }
    var origin: Origin { box.fields.origin }
    /// Time the delivery's clock starts: the event's time, else when it was first read.
    var startedAt: Date {
        get { box.fields.startedAt }
        set { update { $0.startedAt = newValue } }
    }
    /// Set on a deferred delivery that came due: it is not deferred again.
    var wasDeferred: Bool {
        get { box.fields.wasDeferred }
        set { update { $0.wasDeferred = newValue } }
    }

    /// The lane key: one recipient's deliveries run in order.
    var laneKey: String { delivery.recipient.identity }

    var recordTicket: RecordTicket? {
        if case .record(let ticket) = origin { return ticket }
        return nil
    }

    /// Set on a digest's send (as opposed to a delivery that joins one).
    var digestSend: DigestSend? {
        if case .digest(let send) = origin { return send }
        return nil
    }
}

extension WorkItem {
    /// What every log record about this delivery carries: its ids and, when the event had one, its trace context.
    var logMetadata: Logger.Metadata {
        deliveryLogMetadata(deliveryId: deliveryId, eventId: event.id, traceparent: event.traceparent)
    }
}

/// Log metadata for one delivery; the trace context is repeated as `traceId` so logs can be joined to traces.
func deliveryLogMetadata(deliveryId: String, eventId: String, traceparent: String?) -> Logger.Metadata {
    var metadata: Logger.Metadata = ["deliveryId": .string(deliveryId), "eventId": .string(eventId)]
    if let traceparent {
        metadata["traceparent"] = .string(traceparent)
        let parts = traceparent.split(separator: "-")
        if parts.count == 4 { metadata["traceId"] = .string(String(parts[1])) }
    }
    return metadata
}
