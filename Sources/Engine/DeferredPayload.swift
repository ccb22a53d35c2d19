import Foundation
import Routing

/// A deferred delivery as the store keeps it: everything needed to send it and publish its outcome later.
struct DeferredPayload: Codable {
    /// One language of the message (`message.locales`), its card's buttons already naming the delivery.
    struct Localized: Codable {
        var tag: String
        var text: String?
        var card: String?
        var summary: String?
        var keepsCard: Bool?

        init(_ localized: LocalizedMessage, deliveryId: String) {
            tag = localized.tag
            (text, card) = DeferredPayload.stored(localized.message, deliveryId: deliveryId)
            summary = localized.message.summary
            keepsCard = localized.message.keepsCard ? true : nil
        }

        func message(alert: Bool) -> LocalizedMessage {
            LocalizedMessage(
                tag: tag,
                message: RenderedMessage(
                    body: DeferredPayload.body(text: text, card: card), summary: summary, alert: alert,
                    keepsCard: keepsCard ?? false))
        }
    }

    var deliveryId: String
    var route: String
    var recipient: Recipient
    var text: String?
    var card: String?
    var summary: String?
    var alert: Bool
    /// ``RenderedMessage/keepsCard`` (absent in payloads stored before cards had buttons).
    var keepsCard: Bool?
    var notificationKey: String?
    var action: DeliveryAction
    var expiresAt: Date?
    var eventId: String
    var eventType: String
    var eventSource: String
    var eventTime: String?
    var traceparent: String?
    var input: InputPosition
    var startedAt: Date
    /// Absent in payloads stored before messages had languages.
    var locales: [Localized]?
    var locale: String?

    init(_ item: WorkItem) {
        deliveryId = item.deliveryId
        route = item.delivery.route
        recipient = item.delivery.recipient
        (text, card) = Self.stored(item.delivery.message, deliveryId: item.deliveryId)
        summary = item.delivery.message.summary
        alert = item.delivery.message.alert
        keepsCard = item.delivery.message.keepsCard ? true : nil
        notificationKey = item.delivery.notificationKey
        action = item.delivery.action
        expiresAt = item.delivery.expiresAt
        eventId = item.event.id
        eventType = item.event.type
        eventSource = item.event.source
        eventTime = item.event.time
        traceparent = item.event.traceparent
        input = item.event.input
        startedAt = item.startedAt
        let localized = item.delivery.localized
        locales = localized.isEmpty ? nil : localized.map { Localized($0, deliveryId: item.deliveryId) }
        locale = item.delivery.locale
    }

    /// The body as it will be sent, as text or card JSON: a card's buttons already name the delivery.
    static func stored(_ message: RenderedMessage, deliveryId: String) -> (text: String?, card: String?) {
        switch message.body(forDelivery: deliveryId) {
        case .text(let value): (value, nil)
        case .card(let bytes): (nil, String(decoding: bytes, as: UTF8.self))
        case .none: (nil, nil)
        }
    }

    static func body(text: String?, card: String?) -> RenderedMessage.Body {
        text.map { .text($0) } ?? card.map { .card(Array($0.utf8)) } ?? .none
    }

    func workItem(deferralId: String) -> WorkItem {
        let body = Self.body(text: text, card: card)
        var delivery = Delivery(
            eventId: eventId, route: route, recipient: recipient,
            message: RenderedMessage(body: body, summary: summary, alert: alert, keepsCard: keepsCard ?? false),
            notificationKey: notificationKey,
            action: action, quietHours: nil, expiresAt: expiresAt, deliverAt: nil)
        delivery.localized = (locales ?? []).map { $0.message(alert: alert) }
        delivery.locale = locale
        let event = NotificationEvent(
            id: eventId, type: eventType, source: eventSource, subject: nil, time: eventTime, data: .null,
            herald: HeraldInstructions(), traceparent: traceparent, input: input)
        var item = WorkItem(delivery: delivery, event: event, origin: .deferred(id: deferralId), now: startedAt)
        item.deliveryId = deliveryId
        item.startedAt = startedAt
        item.wasDeferred = true
        return item
    }

    func encoded() throws -> [UInt8] { [UInt8](try JSONEncoder().encode(self)) }

    static func decode(_ bytes: [UInt8]) throws -> DeferredPayload {
        try JSONDecoder().decode(DeferredPayload.self, from: Data(bytes))
    }
}
