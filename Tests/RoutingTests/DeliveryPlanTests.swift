import Foundation
import Testing

@testable import Routing

@Suite struct DeliveryPlanTests {
    static let yaml = """
        routes:
          - name: ticket-assigned
            match: { type: "com.example.helpdesk.ticket.assigned" }
            to:
              - user: { aadObjectId: "${data.assignee.aadObjectId}", tenantId: "${data.tenantId}" }
              - reference: "oncall-${data.team}"
              - channel: { teamId: "${data.teamId}", channelId: "${data.channelId}" }
              - conversation: { id: "a:1${data.team}", serviceUrl: "https://smba.trafficmanager.net/emea/" }
              - teamMembers: { teamId: "team-${data.team}" }
              - user: { userId: "${data.missing}", aadObjectId: "${data.alsoMissing}" }
            message: { text: "Ticket ${data.id}", summary: "About ${data.id}", alert: true }
            notificationKey: "ticket-${data.id}"
            quietHours: { from: "20:00", to: "08:00", timeZone: "${data.assignee.timeZone}" }
            expiresAfter: 6h
          - name: closer
            match: { type: "com.example.helpdesk.ticket.closed" }
            to: [ { reference: "r" } ]
            message: { text: "closed" }
            action: delete
          - name: reminder
            match: { type: "com.example.reminder" }
            to: [ { reference: "r" } ]
            message: { text: "remember" }
            deliverAt: "${data.remindAt}"
        """

    @Test func recipientsOfEveryKindAreResolved() throws {
        let result = try Fixtures.routes(Self.yaml).route(Fixtures.event(data: Fixtures.ticketData), now: Date())
        let recipients = result.deliveries.map(\.recipient)
        #expect(
            recipients == [
                .user(userId: nil, aadObjectId: "8d3f2c1a", tenantId: "72F988BF-86F1-41AF-91AB-2D7CD011DB47"),
                .reference(key: "oncall-facilities"),
                .conversation(id: "a:1facilities", serviceUrl: "https://smba.trafficmanager.net/emea/", tenantId: nil),
                .teamMembers(teamId: "team-facilities", tenantId: nil),
            ])
        let d = try #require(result.deliveries.first)
        #expect(d.message.body == .text("Ticket HD-4711"))
        #expect(d.message.summary == "About HD-4711")
        #expect(d.message.alert)
        #expect(d.notificationKey == "ticket-HD-4711")
        #expect(d.action == .send)
        #expect(d.quietHours == QuietHours(from: 1200, to: 480, timeZone: "Europe/Berlin"))
        #expect(d.expiresAt == RFC3339.parse("2025-06-15T15:30:00Z"), "6h after the event's time")
    }

    @Test func missingRecipientFieldsAreTypedRejectionsNotCrashes() throws {
        let result = try Fixtures.routes(Self.yaml).route(Fixtures.event(data: Fixtures.ticketData), now: Date())
        #expect(result.rejections.count == 2)
        let channel = try #require(result.rejections.first)
        #expect(channel.code == .missingRecipientField)
        #expect(channel.recipientIndex == 2)
        #expect(channel.message.contains("channel.channelId"))
        #expect(channel.deliveryId == "evt-1|ticket-assigned|#2")
        #expect(result.rejections[1].message.contains("both rendered empty"))
    }

    @Test func deliveryIdsAreDeterministicAndUnambiguous() throws {
        let router = try Fixtures.routes(Self.yaml)
        let a = router.route(Fixtures.event(data: Fixtures.ticketData), now: Date()).deliveries.map(\.deliveryId)
        let b = router.route(Fixtures.event(data: Fixtures.ticketData), now: Date().addingTimeInterval(999)).deliveries
            .map(\.deliveryId)
        #expect(a == b)
        #expect(a[0] == "evt-1|ticket-assigned|user:aad:72f988bf-86f1-41af-91ab-2d7cd011db47/8d3f2c1a")
        #expect(Set(a).count == a.count)
        #expect(
            Delivery.deliveryId(eventId: "a|b", route: "c", recipientIdentity: "d")
                != Delivery.deliveryId(eventId: "a", route: "b|c", recipientIdentity: "d"))
        let teamDelivery = try #require(
            router.route(Fixtures.event(data: Fixtures.ticketData), now: Date()).deliveries.last)
        #expect(
            teamDelivery.deliveryId(forMember: "29:abc")
                == "evt-1|ticket-assigned|teamMembers:team-facilities|member:29:abc")
    }

    @Test func eventInstructionsWinOverTheRoute() throws {
        var event = Fixtures.event(data: Fixtures.ticketData)
        event.herald = HeraldInstructions(
            expiresAt: RFC3339.parse("2025-06-15T10:00:00Z"), notificationKey: "custom", action: .update)
        let d = try #require(try Fixtures.routes(Self.yaml).route(event, now: Date()).deliveries.first)
        #expect(d.notificationKey == "custom")
        #expect(d.action == .update)
        #expect(d.expiresAt == RFC3339.parse("2025-06-15T10:00:00Z"))
    }

    @Test func deleteNeedsAKeyAndRendersNothing() throws {
        let router = try Fixtures.routes(Self.yaml)
        var event = Fixtures.event(type: "com.example.helpdesk.ticket.closed", data: [:])
        let rejected = router.route(event, now: Date())
        #expect(rejected.deliveries.isEmpty)
        #expect(rejected.rejections.map(\.code) == [.missingNotificationKey])
        event.herald.notificationKey = "ticket-1"
        let d = try #require(router.route(event, now: Date()).deliveries.first)
        #expect(d.action == .delete)
        #expect(d.message.body == .none)
    }

    @Test func routeDeliverAtRendersAndMustBeRFC3339() throws {
        let router = try Fixtures.routes(Self.yaml)
        let ok = router.route(
            Fixtures.event(type: "com.example.reminder", data: ["remindAt": "2030-01-01T08:00:00Z"]), now: Date())
        #expect(ok.deliveries.first?.deliverAt == RFC3339.parse("2030-01-01T08:00:00Z"))
        let bad = router.route(
            Fixtures.event(type: "com.example.reminder", data: ["remindAt": "tomorrow"]), now: Date())
        #expect(bad.rejections.map(\.code) == [.invalidDeliverAt])
        let none = router.route(Fixtures.event(type: "com.example.reminder", data: [:]), now: Date())
        #expect(none.deliveries.first?.deliverAt == nil)
    }

    @Test func unknownTimeZonesFallBackToUTC() throws {
        let data = Fixtures.ticketData.setting("assignee", ["aadObjectId": "x", "timeZone": "Mars/Olympus"])
        let d = try #require(
            try Fixtures.routes(Self.yaml).route(Fixtures.event(data: data), now: Date()).deliveries.first)
        #expect(d.quietHours?.timeZone == "UTC")
    }

    @Test func expiresAfterCountsFromNowWithoutAnEventTime() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let d = try #require(
            try Fixtures.routes(Self.yaml).route(Fixtures.event(data: Fixtures.ticketData, time: nil), now: now)
                .deliveries.first)
        #expect(d.expiresAt == now.addingTimeInterval(6 * 3600))
    }

    @Test func aMessageThatCannotRenderRejectsEveryRecipientOfThatRouteOnly() throws {
        let router = try Fixtures.routes(
            """
            routes:
              - name: big
                match: { type: "t" }
                to: [ { reference: "a" }, { reference: "b" } ]
                message: { text: "Body: ${data.body}" }
              - name: small
                match: { type: "t" }
                to: [ { reference: "c" } ]
                message: { text: "short" }
            """)
        let event = Fixtures.event(type: "t", data: ["body": .string(String(repeating: "z", count: 100_000))])
        let result = router.route(event, now: Date())
        #expect(result.matchedRoutes == ["big", "small"])
        #expect(result.rejections.map(\.code) == [.valueTooLarge, .valueTooLarge])
        #expect(result.rejections.map(\.deliveryId) == ["evt-1|big|reference:a", "evt-1|big|reference:b"])
        #expect(result.deliveries.map(\.recipient) == [.reference(key: "c")])
    }
}
