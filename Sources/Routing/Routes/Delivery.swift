import Foundation

/// The plan for one (event, route, recipient): everything the delivery engine needs, no more parsing.
public struct Delivery: Sendable {
    public var eventId: String
    public var route: String
    public var recipient: Recipient
    public var message: RenderedMessage
    public var notificationKey: String?
    public var action: DeliveryAction
    public var quietHours: QuietHours?
    public var expiresAt: Date?
    public var deliverAt: Date?
    /// The message in each of the route's `message.locales`; empty when the route has none.
    public var localized: [LocalizedMessage] = []
    /// The route's `locale` for this event, used when the recipient's own locale is not known.
    public var locale: String?
    /// Set on a digest route's delivery: it joins a digest instead of being sent on its own.
    public var digest: DigestPlan?

    public init(
        eventId: String, route: String, recipient: Recipient, message: RenderedMessage, notificationKey: String?,
        action: DeliveryAction, quietHours: QuietHours?, expiresAt: Date?, deliverAt: Date?
    ) {
        self.eventId = eventId
        self.route = route
        self.recipient = recipient
        self.message = message
        self.notificationKey = notificationKey
        self.action = action
        self.quietHours = quietHours
        self.expiresAt = expiresAt
        self.deliverAt = deliverAt
    }

    /// `<eventId>|<route>|<recipient identity>`, with `%` and `|` percent-encoded in each part, so the id is
    /// deterministic across restarts and workers and no two different triples share one. The ledger key.
    public var deliveryId: String {
        Self.deliveryId(eventId: eventId, route: route, recipientIdentity: recipient.identity)
    }

    /// The id of one member's delivery of a `teamMembers` fan-out: the team delivery's id plus `|member:<id>`.
    public func deliveryId(forMember memberId: String) -> String {
        deliveryId + "|member:" + Self.escape(memberId)
    }

    public static func deliveryId(eventId: String, route: String, recipientIdentity: String) -> String {
        escape(eventId) + "|" + escape(route) + "|" + escape(recipientIdentity)
    }

    static func escape(_ part: String) -> String {
        guard part.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "%") }) else { return part }
        return part.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "|", with: "%7C")
    }
}
