import Foundation
import Routing
import Testing

@testable import Engine

@Suite("Deferral")
struct DeferralTests {
    static func date(_ text: String) -> Date { RFC3339.parse(text)! }

    @Test func quietHoursAcrossMidnightEndAtTheNextMorningInTheRecipientsZone() {
        let quiet = QuietHours(from: 20 * 60, to: 8 * 60, timeZone: "Europe/Berlin")
        // 22:30 in Berlin (UTC+1 in winter): quiet until 08:00 Berlin the next day.
        #expect(quiet.end(after: Self.date("2026-11-28T21:30:00Z")) == Self.date("2026-11-29T07:00:00Z"))
        // 06:00 in Berlin: quiet until 08:00 the same day.
        #expect(quiet.end(after: Self.date("2026-11-28T05:00:00Z")) == Self.date("2026-11-28T07:00:00Z"))
        // 12:00 in Berlin: not quiet.
        #expect(quiet.end(after: Self.date("2026-11-28T11:00:00Z")) == nil)
    }

    @Test func quietHoursWithinOneDayAndUnknownZones() {
        let lunch = QuietHours(from: 12 * 60, to: 13 * 60, timeZone: "Not/AZone")
        #expect(
            lunch.end(after: Self.date("2026-11-28T12:15:00Z")) == Self.date("2026-11-28T13:00:00Z"),
            "unknown zones are UTC")
        #expect(lunch.end(after: Self.date("2026-11-28T13:00:00Z")) == nil, "the end is outside")
        #expect(
            QuietHours(from: 600, to: 600, timeZone: "UTC").end(after: Date()) == nil, "an empty range is never quiet")
    }

    @Test func aDeferredDeliveryComesBackWithEverythingItsOutcomeNeeds() throws {
        let delivery = Delivery(
            eventId: "e-1", route: "r", recipient: .user(userId: nil, aadObjectId: "a", tenantId: "t"),
            message: RenderedMessage(body: .card(Array(#"{"type":"AdaptiveCard"}"#.utf8)), summary: "s", alert: true),
            notificationKey: "k", action: .update, quietHours: nil, expiresAt: Self.date("2026-12-01T00:00:00Z"),
            deliverAt: Self.date("2026-11-30T00:00:00Z"))
        let event = NotificationEvent(
            id: "e-1", type: "t.x", source: "/s", time: "2026-11-28T10:00:00Z", traceparent: "00-abc-def-01",
            input: InputPosition(topic: "events", partition: 3, offset: 42))
        let item = WorkItem(delivery: delivery, event: event, origin: .deferred(id: "x"), now: Date())
        let back = try DeferredPayload.decode(try DeferredPayload(item).encoded()).workItem(deferralId: "d-1")
        #expect(back.deliveryId == item.deliveryId)
        #expect(back.delivery.recipient == delivery.recipient)
        #expect(back.delivery.message.body == delivery.message.body)
        #expect(back.delivery.message.summary == "s" && back.delivery.message.alert)
        #expect(back.delivery.notificationKey == "k" && back.delivery.action == .update)
        #expect(back.delivery.expiresAt == delivery.expiresAt)
        #expect(back.delivery.deliverAt == nil, "a due deferral is not deferred again")
        #expect(back.wasDeferred)
        #expect(
            back.event.traceparent == "00-abc-def-01" && back.event.input == event.input && back.event.type == "t.x")
        #expect(back.startedAt == Self.date("2026-11-28T10:00:00Z"), "latency and giveUpAfter count from the event")
        if case .deferred(let id) = back.origin { #expect(id == "d-1") } else { Issue.record("origin") }
    }
}
