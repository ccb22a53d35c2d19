import HeraldConfig

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
    /// Overrides `delivery.onUncertain` for this route's deliveries.
    public let onUncertain: UncertainDeliveryPolicy?
    /// Cards end with Herald's "Stop these notifications" button. Default: false.
    public let optOut: Bool
    /// The recipient's locale when its stored reference has none (`locale: "${data.assignee.locale}"`).
    public let locale: TextTemplate?
    /// Deliveries gather into digests (`digest`): one message for many events.
    public let digest: DigestTemplate?
    /// Answers to the verbs of the cards' buttons, by verb (Herald's own included: they replace its defaults).
    public let actions: [String: ActionAnswer]

    public init(
        name: String, type: Glob?, source: Glob? = nil, predicates: [Predicate] = [], isCatchAll: Bool = false,
        recipients: [RecipientTemplate], message: MessageTemplate, notificationKey: TextTemplate? = nil,
        action: DeliveryAction? = nil, quietHours: QuietHoursTemplate? = nil, expiresAfter: Duration? = nil,
        deliverAt: TextTemplate? = nil, onUncertain: UncertainDeliveryPolicy? = nil, optOut: Bool = false,
        actions: [String: ActionAnswer] = [:], locale: TextTemplate? = nil, digest: DigestTemplate? = nil
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
        self.onUncertain = onUncertain
        self.optOut = optOut
        self.actions = actions
        self.locale = locale
        self.digest = digest
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
