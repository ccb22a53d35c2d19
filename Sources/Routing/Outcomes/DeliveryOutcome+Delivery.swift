import Foundation
import HeraldJSON

extension DeliveryOutcome {
    /// An outcome for a planned delivery, with the event's and the plan's fields filled in; the delivery engine
    /// adds conversation, activity, attempts, error and timings.
    public init(delivery: Delivery, event: NotificationEvent, status: Status, completedAt: Date, worker: String) {
        self.init(
            deliveryId: delivery.deliveryId, eventId: event.id, eventType: event.type, eventSource: event.source,
            route: delivery.route, recipient: delivery.recipient, status: status, action: delivery.action,
            eventTime: event.time, completedAt: completedAt, input: event.input, worker: worker)
    }

    /// The record value for `kafka.outcomesTopic`: compact JSON, keys sorted, absent fields left out: what
    /// `JSONEncoder` with `.sortedKeys` makes of the `Codable` form, written directly (it is on every delivery's
    /// path, and `JSONEncoder` took about 13 µs an outcome, more than decoding, routing and rendering an event).
    public func jsonBytes() throws -> [UInt8] {
        var object = JSONObjectWriter(capacity: 640)
        object.string("action", action?.rawValue)
        object.string("activityId", activityId)
        object.int("attempts", attempts)
        object.string("completedAt", completedAt)
        object.string("conversationId", conversationId)
        object.string("deliveryId", deliveryId)
        if let digest {
            object.object("digest") { inner in
                inner.int("count", digest.count)
                inner.string("id", digest.id)
                inner.int("position", digest.position)
            }
        }
        if let duplicateOf { object.object("duplicateOf") { $0.position(duplicateOf) } }
        if let error {
            object.object("error") { inner in
                inner.string("code", error.code)
                inner.int("httpStatus", error.httpStatus)
                inner.string("message", error.message)
                inner.bool("retryable", error.retryable)
            }
        }
        object.string("eventId", eventId)
        object.string("eventSource", eventSource)
        object.string("eventTime", eventTime)
        object.string("eventType", eventType)
        object.string("firstAttemptAt", firstAttemptAt)
        object.object("input") { $0.position(input) }
        object.bool("installedApp", installedApp)
        object.int("latencyMs", latencyMs)
        if let recipient { object.object("recipient") { recipient.writeFields(to: &$0) } }
        object.string("route", route)
        object.string("serviceUrl", serviceUrl)
        object.string("status", status.rawValue)
        object.int("throttled", throttled)
        object.string("worker", worker)
        return object.finish()
    }
}

extension JSONObjectWriter {
    /// An ``InputPosition``'s fields in sorted key order.
    fileprivate mutating func position(_ position: InputPosition) {
        int("offset", Int(position.offset))
        int("partition", Int(position.partition))
        string("topic", position.topic)
    }
}

extension Recipient {
    /// The `Codable` form's fields in sorted key order.
    fileprivate func writeFields(to object: inout JSONObjectWriter) {
        switch self {
        case .user(let userId, let aad, let tenant):
            object.string("aadObjectId", aad)
            object.string("kind", kind)
            object.string("tenantId", tenant)
            object.string("userId", userId)
        case .conversation(let id, let serviceUrl, let tenant):
            object.string("id", id)
            object.string("kind", kind)
            object.string("serviceUrl", serviceUrl)
            object.string("tenantId", tenant)
        case .reference(let key):
            object.string("key", key)
            object.string("kind", kind)
        case .channel(let team, let channel, let tenant, let thread):
            object.string("channelId", channel)
            object.string("kind", kind)
            object.string("teamId", team)
            object.string("tenantId", tenant)
            object.string("threadId", thread)
        case .teamMembers(let team, let tenant):
            object.string("kind", kind)
            object.string("teamId", team)
            object.string("tenantId", tenant)
        case .person(let name, let tenant):
            if case .email(let address) = name { object.string("email", address) }
            object.string("kind", kind)
            object.string("tenantId", tenant)
            if case .upn(let upn) = name { object.string("upn", upn) }
        case .group(let id, let tenant):
            object.string("id", id)
            object.string("kind", kind)
            object.string("tenantId", tenant)
        case .namedChannel(let team, let name, let tenant):
            object.string("channelName", name)
            object.string("kind", kind)
            object.string("teamId", team)
            object.string("tenantId", tenant)
        }
    }
}
