import Foundation

/// One delivery's outcome, published on `kafka.outcomesTopic` (key = event id).
/// Matches `Schemas/delivery-outcome.schema.json` field for field; dates are RFC 3339 strings.
public struct DeliveryOutcome: Sendable, Hashable, Codable {
    /// The outcome values (SPEC section 7).
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case delivered, updated, deleted, deferred, suppressed, expired, failed, rejected, unroutable
    }

    /// Why a delivery failed, was suppressed or rejected.
    public struct ErrorInfo: Sendable, Hashable, Codable {
        /// Teams' code (`MessageWritesBlocked`), Herald's (`OptedOut`, `NotJSON`, `ServiceUrlNotAllowed`) ...
        public var code: String
        public var httpStatus: Int?
        public var message: String
        public var retryable: Bool

        public init(code: String, httpStatus: Int? = nil, message: String, retryable: Bool) {
            self.code = code
            self.httpStatus = httpStatus
            self.message = message
            self.retryable = retryable
        }
    }

    /// Where a delivery of a digest route went: the digest's message, how many events it shows, and this
    /// event's place among them (1 is the oldest).
    public struct DigestInfo: Sendable, Hashable, Codable {
        public var id: String
        public var count: Int
        public var position: Int

        public init(id: String, count: Int, position: Int) {
            self.id = id
            self.count = count
            self.position = position
        }
    }

    public var deliveryId: String
    public var eventId: String
    public var eventType: String?
    public var eventSource: String?
    public var route: String?
    public var recipient: Recipient?
    public var status: Status
    public var action: DeliveryAction?
    public var conversationId: String?
    public var activityId: String?
    public var serviceUrl: String?
    public var attempts: Int
    /// 429 answers received for this delivery.
    public var throttled: Int
    /// True when Herald installed the app for the recipient through Microsoft Graph to reach them (absent
    /// otherwise).
    public var installedApp: Bool?
    public var error: ErrorInfo?
    public var eventTime: String?
    public var firstAttemptAt: String?
    public var completedAt: String
    public var latencyMs: Int?
    public var input: InputPosition
    /// For `suppressed`/`Duplicate`: the record whose delivery of the same event already happened.
    public var duplicateOf: InputPosition?
    /// `host/process` of the worker that produced the outcome.
    public var worker: String
    /// Set on the outcome of a delivery sent in a digest.
    public var digest: DigestInfo?

    public init(
        deliveryId: String, eventId: String, eventType: String? = nil, eventSource: String? = nil,
        route: String? = nil, recipient: Recipient? = nil, status: Status, action: DeliveryAction? = nil,
        conversationId: String? = nil, activityId: String? = nil, serviceUrl: String? = nil, attempts: Int = 0,
        throttled: Int = 0, error: ErrorInfo? = nil, eventTime: String? = nil, firstAttemptAt: Date? = nil,
        completedAt: Date, latencyMs: Int? = nil, input: InputPosition, worker: String
    ) {
        self.deliveryId = deliveryId
        self.eventId = eventId
        self.eventType = eventType
        self.eventSource = eventSource
        self.route = route
        self.recipient = recipient
        self.status = status
        self.action = action
        self.conversationId = conversationId
        self.activityId = activityId
        self.serviceUrl = serviceUrl
        self.attempts = attempts
        self.throttled = throttled
        self.error = error
        self.eventTime = eventTime
        self.firstAttemptAt = firstAttemptAt.map(RFC3339.format)
        self.completedAt = RFC3339.format(completedAt)
        self.latencyMs = latencyMs
        self.input = input
        self.worker = worker
    }
}

extension DeliveryOutcome {
    /// The `rejected` outcome of a record that could not be decoded: its id is `topic/partition/offset`.
    public static func rejected(
        record: InboundRecord, error: EventDecodingError, completedAt: Date, worker: String
    ) -> DeliveryOutcome {
        DeliveryOutcome(
            deliveryId: record.coordinates, eventId: record.coordinates, status: .rejected,
            error: ErrorInfo(code: error.code.rawValue, message: error.message, retryable: false),
            completedAt: completedAt,
            input: InputPosition(topic: record.topic, partition: record.partition, offset: record.offset),
            worker: worker)
    }

    /// The `unroutable` outcome of an event no route matched.
    public static func unroutable(event: NotificationEvent, completedAt: Date, worker: String) -> DeliveryOutcome {
        DeliveryOutcome(
            deliveryId: event.id, eventId: event.id, eventType: event.type, eventSource: event.source,
            status: .unroutable, eventTime: event.time, completedAt: completedAt, input: event.input, worker: worker)
    }

    /// The `rejected` outcome of one planned delivery that could not be made (missing recipient field ...).
    public static func rejected(
        _ rejection: DeliveryRejection, event: NotificationEvent, completedAt: Date, worker: String
    ) -> DeliveryOutcome {
        DeliveryOutcome(
            deliveryId: rejection.deliveryId, eventId: event.id, eventType: event.type, eventSource: event.source,
            route: rejection.route, recipient: rejection.recipient, status: .rejected,
            error: ErrorInfo(code: rejection.code.rawValue, message: rejection.message, retryable: false),
            eventTime: event.time, completedAt: completedAt, input: event.input, worker: worker)
    }
}
