import Foundation

extension DeliveryOutcome {
    /// An outcome for a planned delivery, with the event's and the plan's fields filled in; the delivery engine
    /// adds conversation, activity, attempts, error and timings.
    public init(delivery: Delivery, event: NotificationEvent, status: Status, completedAt: Date, worker: String) {
        self.init(
            deliveryId: delivery.deliveryId, eventId: event.id, eventType: event.type, eventSource: event.source,
            route: delivery.route, recipient: delivery.recipient, status: status, action: delivery.action,
            eventTime: event.time, completedAt: completedAt, input: event.input, worker: worker)
    }

    /// The record value for `kafka.outcomesTopic`: compact JSON, keys sorted.
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(self))
    }
}
