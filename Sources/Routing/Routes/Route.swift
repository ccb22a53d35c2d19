/// One compiled routing rule: which events it matches and who gets what.
///
/// A class: routes are immutable after start-up and shared by every event, so walking them costs no copies.
public final class Route: Sendable {
    /// Unique; part of every `deliveryId`. Letters, digits, `-`, `_`, `.`.
    public let name: String
    /// Exact or glob on the event type; nil only on a catch-all route.
    public let type: Glob?
    /// Exact or glob on the event source; nil matches any.
    public let source: Glob?
    /// All must hold.
    public let predicates: [Predicate]
    /// Used only for events no other route matched.
    public let isCatchAll: Bool
    public let recipients: [RecipientTemplate]
    public let message: MessageTemplate
    public let notificationKey: TextTemplate?
    /// Used when the event gives none. Default: `send`.
    public let action: DeliveryAction?
    public let quietHours: QuietHoursTemplate?
    /// Deliveries expire this long after the event's time (or, without one, after routing).
    public let expiresAfter: Duration?
    /// Used when the event gives no `deliverAt`; must render as RFC 3339.
    public let deliverAt: TextTemplate?

    public init(
        name: String, type: Glob?, source: Glob? = nil, predicates: [Predicate] = [], isCatchAll: Bool = false,
        recipients: [RecipientTemplate], message: MessageTemplate, notificationKey: TextTemplate? = nil,
        action: DeliveryAction? = nil, quietHours: QuietHoursTemplate? = nil, expiresAfter: Duration? = nil,
        deliverAt: TextTemplate? = nil
    ) {
        self.name = name
        self.type = type
        self.source = source
        self.predicates = predicates
        self.isCatchAll = isCatchAll
        self.recipients = recipients
        self.message = message
        self.notificationKey = notificationKey
        self.action = action
        self.quietHours = quietHours
        self.expiresAfter = expiresAfter
        self.deliverAt = deliverAt
    }

    /// True when the event's type, source and every `where` predicate match.
    public func matches(_ event: NotificationEvent) -> Bool {
        matches(EvaluationScope(event: event))
    }

    func matches(_ scope: EvaluationScope) -> Bool {
        if let type, !type.matches(scope.event.type) { return false }
        if let source, !source.matches(scope.event.source) { return false }
        for predicate in predicates where !predicate.isSatisfied(by: scope) { return false }
        return true
    }
}

/// A recipient as written in `to:`, each field a template.
public enum RecipientTemplate: Sendable {
    case user(userId: TextTemplate?, aadObjectId: TextTemplate?, tenantId: TextTemplate?)
    case conversation(id: TextTemplate, serviceUrl: TextTemplate?, tenantId: TextTemplate?)
    case reference(key: TextTemplate)
    case channel(teamId: TextTemplate?, channelId: TextTemplate, tenantId: TextTemplate?, threadId: TextTemplate?)
    case teamMembers(teamId: TextTemplate, tenantId: TextTemplate?)

    /// Fields each kind accepts, and which are required.
    static let fields: [String: (all: [String], required: [String])] = [
        "user": (["userId", "aadObjectId", "tenantId"], []),
        "conversation": (["id", "serviceUrl", "tenantId"], ["id"]),
        "channel": (["teamId", "channelId", "tenantId", "threadId"], ["channelId"]),
        "teamMembers": (["teamId", "tenantId"], ["teamId"]),
    ]
}

/// What a route sends.
public struct MessageTemplate: Sendable {
    public enum Body: Sendable {
        case text(TextTemplate)
        case card(CardTemplate)
    }

    /// The default body.
    public var body: Body
    /// Cards chosen by exact event type, before `body` (`message.cardsByType`).
    public var cardsByType: [String: CardTemplate]
    /// Activity-feed preview text.
    public var summary: TextTemplate?
    /// Teams activity-feed alert. Default: false.
    public var alert: Bool

    public init(
        body: Body, cardsByType: [String: CardTemplate] = [:], summary: TextTemplate? = nil, alert: Bool = false
    ) {
        self.body = body
        self.cardsByType = cardsByType
        self.summary = summary
        self.alert = alert
    }
}

/// `quietHours: { from: "20:00", to: "08:00", timeZone: "${data.assignee.timeZone}" }`
public struct QuietHoursTemplate: Sendable {
    /// Minutes after midnight.
    public var from: Int
    public var to: Int
    public var timeZone: TextTemplate
}

/// Quiet hours with the time zone resolved: deliveries starting inside [from, to) local time wait for `to`.
public struct QuietHours: Sendable, Hashable {
    /// Minutes after midnight, local time; `from > to` spans midnight.
    public var from: Int
    public var to: Int
    /// An IANA time zone id; `UTC` when the template rendered empty or unknown.
    public var timeZone: String
}
