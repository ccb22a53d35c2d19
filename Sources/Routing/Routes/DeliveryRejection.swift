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
        /// An event asks to update or delete through a digest route, whose messages are the digests'.
        public static let digestAction = Code("DigestActionNotSupported")
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
