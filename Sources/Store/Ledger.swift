import Foundation

/// Where a delivery is in its life, as the ledger records it.
public enum DeliveryState: String, Sendable, Hashable, Codable {
    /// Known but owned by no worker (released); the next ``HeraldStore/claim(_:worker:lease:now:)`` takes it.
    case pending
    /// A worker owns it until its lease expires.
    case claimed
    /// The owning worker is making the Teams request. Should its claim expire in this state (the worker died
    /// mid-request), Teams may or may not have the message: the next owner must not send it blindly.
    case sending
    /// Teams accepted the message; the outcome is not yet published.
    case sent
    /// The outcome is on the outcomes topic: nothing is left to do.
    case outcomePublished
}

/// One ledger row.
public struct LedgerEntry: Sendable, Hashable {
    public var deliveryId: String
    public var state: DeliveryState
    public var claimedBy: String?
    public var claimExpiresAt: Date?
    public var activityId: String?
    public var conversationId: String?
    public var serviceUrl: String?
    public var attempts: Int
    public var notificationKey: String?
    /// ``Recipient/identity`` of the recipient (`user:aad:<tenant>/<object id>`, ...).
    public var recipient: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?
    /// `topic/partition/offset` of the record whose outcome was published (nil before, and for rows written
    /// before schema version 2).
    public var input: String?

    public init(
        deliveryId: String, state: DeliveryState, claimedBy: String? = nil, claimExpiresAt: Date? = nil,
        activityId: String? = nil, conversationId: String? = nil, serviceUrl: String? = nil, attempts: Int = 0,
        notificationKey: String? = nil, recipient: String? = nil, createdAt: Date, updatedAt: Date, sentAt: Date? = nil,
        input: String? = nil
    ) {
        self.deliveryId = deliveryId
        self.state = state
        self.claimedBy = claimedBy
        self.claimExpiresAt = claimExpiresAt
        self.activityId = activityId
        self.conversationId = conversationId
        self.serviceUrl = serviceUrl
        self.attempts = attempts
        self.notificationKey = notificationKey
        self.recipient = recipient
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
        self.input = input
    }
}

/// What ``HeraldStore/markOutcomePublished(_:now:)`` records for one delivery.
public struct PublishedOutcome: Sendable, Hashable {
    public var deliveryId: String
    /// `topic/partition/offset` of the record the outcome was published for.
    public var input: String?

    public init(deliveryId: String, input: String?) {
        self.deliveryId = deliveryId
        self.input = input
    }
}

/// The answer to a claim, per delivery id.
public enum ClaimResult: Sendable, Hashable {
    /// This worker owns the delivery until the lease expires: send it.
    case claimed
    /// Another worker already sent it: do not send again (the entry says where it went).
    case alreadySent(LedgerEntry)
    /// Another worker holds an unexpired claim.
    case claimedByOther(worker: String, until: Date)
    /// Sent and its outcome published: nothing to do.
    case outcomePublished(LedgerEntry)
    /// Another worker's claim expired while it was making the Teams request (``DeliveryState/sending``): the
    /// message may or may not have reached Teams.
    case uncertain(LedgerEntry)
}

/// What ``HeraldStore/markSent(_:now:)`` records for one delivery.
public struct SentDelivery: Sendable, Hashable {
    public var deliveryId: String
    public var activityId: String?
    public var conversationId: String?
    public var serviceUrl: String?
    public var attempts: Int
    public var notificationKey: String?
    /// ``Recipient/identity``.
    public var recipient: String?
    /// The card as sent, when its buttons may need it again (see ``HeraldStore/sentCard(deliveryId:)``).
    public var card: String?

    public init(
        deliveryId: String, activityId: String?, conversationId: String?, serviceUrl: String?, attempts: Int,
        notificationKey: String? = nil, recipient: String? = nil, card: String? = nil
    ) {
        self.deliveryId = deliveryId
        self.activityId = activityId
        self.conversationId = conversationId
        self.serviceUrl = serviceUrl
        self.attempts = attempts
        self.notificationKey = notificationKey
        self.recipient = recipient
        self.card = card
    }
}

extension ClaimResult {
    /// Decides one claim from the row as it is (nil: no row yet). The rule both backends apply.
    static func decide(existing: LedgerEntry?, worker: String, now: Date) -> ClaimResult? {
        guard let existing else { return nil }
        switch existing.state {
        case .pending: return nil
        case .claimed:
            if existing.claimedBy == worker { return nil }
            if let until = existing.claimExpiresAt, until <= now { return nil }
            return .claimedByOther(worker: existing.claimedBy ?? "", until: existing.claimExpiresAt ?? now)
        case .sending:
            if existing.claimedBy == worker { return nil }
            if let until = existing.claimExpiresAt, until <= now { return .uncertain(existing) }
            return .claimedByOther(worker: existing.claimedBy ?? "", until: existing.claimExpiresAt ?? now)
        case .sent: return .alreadySent(existing)
        case .outcomePublished: return .outcomePublished(existing)
        }
    }
}
