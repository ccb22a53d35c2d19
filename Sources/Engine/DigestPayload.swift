import Foundation
import HeraldJSON
import Routing
import Store

/// What the store keeps of a digest, written by the delivery that opens it: enough to send it later.
struct DigestPayload: Codable {
    var route: String
    var recipient: Recipient
    var key: String
    var mode: DigestTemplate.Mode
    /// A live digest's least time between updates, in milliseconds.
    var minIntervalMs: Int64
    var quietHours: QuietHours?
    /// The route's `locale` for the first event (the recipient's stored locale wins when the digest is sent).
    var locale: String?

    func encoded() throws -> [UInt8] { [UInt8](try JSONEncoder().encode(self)) }

    static func decode(_ bytes: [UInt8]) throws -> DigestPayload {
        try JSONDecoder().decode(DigestPayload.self, from: Data(bytes))
    }
}

/// One delivery waiting in a digest: the event's `data` (one of the card's `items`) and what its outcome names.
struct DigestItemPayload: Codable {
    var deliveryId: String
    var eventId: String
    var eventType: String
    var eventSource: String
    var eventTime: String?
    var traceparent: String?
    var input: InputPosition
    var expiresAt: Date?
    var startedAt: Date
    /// The event's `data` as compact JSON.
    var data: String

    init(_ item: WorkItem, data: JSONValue) {
        deliveryId = item.deliveryId
        eventId = item.event.id
        eventType = item.event.type
        eventSource = item.event.source
        eventTime = item.event.time
        traceparent = item.event.traceparent
        input = item.event.input
        expiresAt = item.delivery.expiresAt
        startedAt = item.startedAt
        self.data = String(decoding: JSONWriter.encode(data), as: UTF8.self)
    }

    func encoded() throws -> [UInt8] { [UInt8](try JSONEncoder().encode(self)) }

    static func decode(_ bytes: [UInt8]) throws -> DigestItemPayload {
        try JSONDecoder().decode(DigestItemPayload.self, from: Data(bytes))
    }
}

/// A digest being sent: which deliveries its message covers, and what finishing it means.
final class DigestSend: Sendable {
    struct Member: Sendable {
        var item: DigestItemPayload
        var position: Int
        /// Its `expiresAt` passed before the send: its outcome is `expired`, and the message leaves it out.
        var expired: Bool
    }

    let id: String
    let live: Bool
    /// The items this send covers: 1...upTo.
    let upTo: Int
    /// Items an earlier send of a live digest covered (their outcomes are published).
    let sentCount: Int
    /// The deliveries whose outcomes this send publishes: sentCount+1...upTo.
    let members: [Member]
    /// Items the message shows.
    let shown: Int
    let minInterval: Duration
    /// Why it cannot be sent (the route is gone, the message cannot be rendered): every member fails with it.
    let problem: DeliveryOutcome.ErrorInfo?

    init(
        id: String, live: Bool, upTo: Int, sentCount: Int, members: [Member], shown: Int, minInterval: Duration,
        problem: DeliveryOutcome.ErrorInfo?
    ) {
        self.id = id
        self.live = live
        self.upTo = upTo
        self.sentCount = sentCount
        self.members = members
        self.shown = shown
        self.minInterval = minInterval
        self.problem = problem
    }

    /// The ledger id of this send: a batch digest is sent once; each update of a live one is a send of its own.
    var deliveryId: String { live ? "\(id)#\(upTo)" : id }

    /// The outcome of each member, from the send's.
    func memberOutcomes(_ outcome: DeliveryOutcome) -> [DeliveryOutcome] {
        members.map { member in
            var each = outcome
            let item = member.item
            each.deliveryId = item.deliveryId
            each.eventId = item.eventId
            each.eventType = item.eventType
            each.eventSource = item.eventSource
            each.eventTime = item.eventTime
            each.input = item.input
            each.action = .send
            each.digest = DeliveryOutcome.DigestInfo(id: id, count: shown, position: member.position)
            if member.expired {
                each.status = .expired
                each.activityId = nil
                each.error = .init(
                    code: "Expired",
                    message: "expired at \(item.expiresAt.map(RFC3339.format) ?? "?") while waiting in the digest",
                    retryable: false)
            } else if each.status == .updated {
                // Its event is in the message, which was updated to show it.
                each.status = .delivered
            }
            if let completed = RFC3339.parse(each.completedAt) {
                each.latencyMs = Int((completed.timeIntervalSince(item.startedAt) * 1000).rounded())
            }
            return each
        }
    }
}
