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

/// A rendered message, shared by all deliveries of one route for one event.
public struct RenderedMessage: Sendable {
    public enum Body: Sendable, Hashable {
        /// Plain text (Teams renders a subset of Markdown).
        case text(String)
        /// An Adaptive Card as compact JSON, ready to splice into an activity attachment's `content`.
        case card([UInt8])
        /// Nothing to render (`delete`).
        case none
    }

    public var body: Body
    public var summary: String?
    public var alert: Bool

    public init(body: Body, summary: String? = nil, alert: Bool = false) {
        self.body = body
        self.summary = summary
        self.alert = alert
    }
}

/// A delivery that cannot be made as planned: becomes a `rejected` outcome with ``code``.
public struct DeliveryRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A required recipient field rendered empty.
        public static let missingRecipientField = Code("MissingRecipientField")
        /// A recipient field is longer than 1024 bytes.
        public static let recipientFieldTooLong = Code("RecipientFieldTooLong")
        /// A substituted value is over `routing.maxValueBytes`.
        public static let valueTooLarge = Code("ValueTooLarge")
        /// The rendered card or text is over `routing.maxMessageBytes`.
        public static let messageTooLarge = Code("MessageTooLarge")
        /// The route's `deliverAt` did not render as an RFC 3339 date-time.
        public static let invalidDeliverAt = Code("InvalidDeliverAt")
        /// `update` or `delete` without a notification key.
        public static let missingNotificationKey = Code("MissingNotificationKey")
    }

    public var eventId: String
    public var route: String
    /// Position in the route's `to:` list.
    public var recipientIndex: Int
    /// The recipient, when it could be resolved.
    public var recipient: Recipient?
    public var code: Code
    public var message: String

    /// `<eventId>|<route>|<recipient identity>`, or `...|#<index>` when the recipient could not be resolved.
    public var deliveryId: String {
        Delivery.deliveryId(
            eventId: eventId, route: route, recipientIdentity: recipient?.identity ?? "#\(recipientIndex)")
    }

    public var description: String { "route \(route), recipient \(recipientIndex + 1): \(code): \(message)" }
}

/// What routing decided for one event.
public struct RoutingResult: Sendable {
    public var deliveries: [Delivery] = []
    public var rejections: [DeliveryRejection] = []
    /// Names of the routes that matched (a catch-all only when nothing else did).
    public var matchedRoutes: [String] = []

    /// No route matched: the event's outcome is `unroutable`.
    public var isUnroutable: Bool { matchedRoutes.isEmpty }
}
