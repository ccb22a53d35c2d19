import Foundation
import HeraldConfig
import HeraldJSON
import Testing

@testable import Routing

/// The shipped examples work together: each sample event decodes with the example configuration and routes
/// through the example routes to the expected deliveries.
@Suite struct ExampleRoutingTests {
    func pipeline() throws -> (EventDecoder, Router) {
        let config = try HeraldConfiguration.load(
            file: Fixtures.examples.appendingPathComponent("herald.yaml").path, environment: [:])
        let (set, problems) = RouteSet.load(
            file: config.routesFilePath, limits: RenderLimits(configuration: config.routing))
        #expect(problems.isEmpty)
        return (
            EventDecoder(options: EventDecodingOptions(configuration: config.routing)),
            Router(routes: try #require(set).routes, limits: RenderLimits(configuration: config.routing))
        )
    }

    func route(_ file: String) throws -> RoutingResult {
        let (decoder, router) = try pipeline()
        let bytes = [UInt8](try Data(contentsOf: Fixtures.examples.appendingPathComponent("events/\(file)")))
        let event = try decoder.decode(InboundRecord(topic: "notifications", partition: 0, offset: 42, value: bytes))
        return router.route(event, now: Date(timeIntervalSince1970: 1_750_000_000))
    }

    @Test func assignmentGoesToTheAssigneeAndOnCall() throws {
        let result = try route("ticket-assigned.json")
        #expect(result.matchedRoutes == ["ticket-assigned"])
        #expect(result.deliveries.map(\.recipient.kind) == ["user", "reference"])
        let card = try #require(
            result.deliveries.first.flatMap { if case .card(let b) = $0.message.body { b } else { nil } })
        guard case .array(let actions)? = try JSONParser.parse(card)["actions"] else {
            Issue.record("the card has no actions")
            return
        }
        #expect(actions.contains { $0["url"] == "https://helpdesk.example.com/tickets/HD-4711" })
        #expect(result.deliveries.first?.message.summary == "Ticket HD-4711 assigned to you")
    }

    @Test func closingUpdatesTheCardByKey() throws {
        let result = try route("ticket-closed.json")
        let d = try #require(result.deliveries.first)
        #expect(d.action == .update)
        #expect(d.notificationKey == "ticket-HD-4711")
        #expect(d.message.body == .text("Ticket HD-4711 was closed by Fox Mulder."))
    }

    @Test func digestGoesToTheChannelAtItsTime() throws {
        let result = try route("daily-digest.json")
        #expect(result.matchedRoutes == ["daily-digest"])
        let d = try #require(result.deliveries.first)
        #expect(d.deliverAt == RFC3339.parse("2025-06-16T07:30:00Z"))
        #expect(d.message.summary == "2 open tickets")
        guard case .channel(_, let channelId, _, _) = d.recipient else { Issue.record("not a channel"); return }
        #expect(channelId == "19:5b2c7e9f0a1d@thread.tacv2")
    }

    @Test func plainAlertGoesToTheWholeTeam() throws {
        let result = try route("service-down.plain.json")
        let d = try #require(result.deliveries.first)
        #expect(d.eventId == "alert-20250615-0931-db1")
        #expect(d.recipient.kind == "teamMembers")
        #expect(
            d.message.body
                == .text(
                    "ALERT CRITICAL: orders-db has been down for 240 s. https://wiki.example.com/runbooks/orders-db"))
        #expect(d.expiresAt == RFC3339.parse("2025-06-15T10:30:00Z"))
    }
}
