import Foundation

/// One delivery joining its group's digest (``HeraldStore/joinDigests(_:now:)``).
public struct DigestJoin: Sendable {
    /// The delivery's ledger id: its item's key, so joining again changes nothing.
    public var deliveryId: String
    /// Route, recipient and digest key: one open digest per group.
    public var groupKey: String
    /// The id a digest opened by this join gets.
    public var newDigestId: String
    /// Stored with a digest this join opens (what the engine needs to send it).
    public var digestPayload: [UInt8]
    /// Stored with the item.
    public var itemPayload: [UInt8]
    public var live: Bool
    public var window: Duration
    public var maxItems: Int

    public init(
        deliveryId: String, groupKey: String, newDigestId: String, digestPayload: [UInt8], itemPayload: [UInt8],
        live: Bool, window: Duration, maxItems: Int
    ) {
        self.deliveryId = deliveryId
        self.groupKey = groupKey
        self.newDigestId = newDigestId
        self.digestPayload = digestPayload
        self.itemPayload = itemPayload
        self.live = live
        self.window = window
        self.maxItems = maxItems
    }
}

/// Where a delivery waits: its digest and its 1-based place in it.
public struct DigestJoined: Sendable, Hashable {
    public var digestId: String
    public var position: Int

    public init(digestId: String, position: Int) {
        self.digestId = digestId
        self.position = position
    }
}

/// One delivery in a digest.
public struct DigestItem: Sendable, Hashable {
    public var deliveryId: String
    public var position: Int
    public var payload: [UInt8]

    public init(deliveryId: String, position: Int, payload: [UInt8]) {
        self.deliveryId = deliveryId
        self.position = position
        self.payload = payload
    }
}

/// A digest claimed to be sent (``HeraldStore/claimDueDigests(now:limit:worker:lease:)``).
public struct DueDigest: Sendable {
    public var id: String
    public var payload: [UInt8]
    public var live: Bool
    /// Its items up to ``upTo``, oldest first: what this send shows.
    public var items: [DigestItem]
    /// The items this send covers (1...upTo); the same after a killed worker's claim expires.
    public var upTo: Int
    /// Items earlier sends of a live digest covered: their outcomes are published.
    public var sentCount: Int
    public var openedAt: Date
    public var closesAt: Date

    public init(
        id: String, payload: [UInt8], live: Bool, items: [DigestItem], upTo: Int, sentCount: Int, openedAt: Date,
        closesAt: Date
    ) {
        self.id = id
        self.payload = payload
        self.live = live
        self.items = items
        self.upTo = upTo
        self.sentCount = sentCount
        self.openedAt = openedAt
        self.closesAt = closesAt
    }
}
