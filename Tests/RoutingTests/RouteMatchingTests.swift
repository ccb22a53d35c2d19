import Foundation
import HeraldJSON
import Testing

@testable import Routing

@Suite struct RouteMatchingTests {
    @Test(arguments: [
        ("com.example.ticket.assigned", "com.example.ticket.assigned", true),
        ("com.example.ticket.assigned", "com.example.ticket.closed", false),
        ("com.example.*", "com.example.ticket.assigned", true),
        ("com.example.*", "org.example.ticket", false),
        ("*.assigned", "com.example.ticket.assigned", true),
        ("com.?xample.*", "com.example.x", true),
        ("ticket.[ab]", "ticket.b", true),
        ("ticket.[ab]", "ticket.c", false),
        ("ticket.[!ab]", "ticket.c", true),
        ("v[0-9]", "v7", true),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
    ])
    func globs(pattern: String, text: String, expected: Bool) throws {
        #expect(try Glob(pattern).matches(text) == expected)
    }

    @Test(arguments: ["", "x.[y", "a]b", "[z-a]"])
    func badGlobs(pattern: String) {
        #expect(throws: GlobError.self) { try Glob(pattern) }
    }

    static let routesYAML = """
        routes:
          - name: urgent-tickets
            match:
              type: "com.example.helpdesk.ticket.*"
              source: "/helpdesk/*"
              where: { "data.priority": { in: [high, urgent] }, "data.assignee.aadObjectId": { exists: true } }
            to: [ { user: { aadObjectId: "${data.assignee.aadObjectId}", tenantId: "${data.tenantId}" } } ]
            message: { text: "Ticket ${data.id}" }
          - name: all-tickets-to-team
            match: { type: "com.example.helpdesk.ticket.*" }
            to: [ { reference: "team-${data.team}" } ]
            message: { text: "Ticket ${data.id} for the team" }
          - name: big-invoices
            match:
              type: "invoice.created"
              where: { "data.amount": { gte: 1000 }, "data.currency": EUR, "data.customer": { matches: "ACME*" } }
            to: [ { reference: "finance" } ]
            message: { text: "Invoice ${data.amount}" }
          - name: not-test
            match: { type: "invoice.created", where: { "data.env": { notIn: [test, dev] }, "data.amount": { lt: 10 } } }
            to: [ { reference: "tiny" } ]
            message: { text: "tiny" }
          - name: fallback
            catchAll: true
            to: [ { reference: "ops" } ]
            message: { text: "unrouted ${type}" }
        """

    func matched(_ event: NotificationEvent) throws -> [String] {
        try Fixtures.routes(Self.routesYAML).route(event, now: Date()).matchedRoutes
    }

    @Test func severalRoutesMayMatchOneEvent() throws {
        #expect(try matched(Fixtures.event(data: Fixtures.ticketData)) == ["urgent-tickets", "all-tickets-to-team"])
    }

    @Test func predicatesAndSourceGlobFilter() throws {
        let low = Fixtures.ticketData.setting("priority", "low")
        #expect(try matched(Fixtures.event(data: low)) == ["all-tickets-to-team"])
        #expect(try matched(Fixtures.event(source: "/crm/1", data: Fixtures.ticketData)) == ["all-tickets-to-team"])
    }

    @Test(
        arguments: [
            (["amount": 1500, "currency": "EUR", "customer": "ACME Corp"], ["big-invoices"]),
            (["amount": 999, "currency": "EUR", "customer": "ACME Corp"], ["fallback"]),
            (["amount": 1500, "currency": "USD", "customer": "ACME Corp"], ["fallback"]),
            (["amount": 1500, "currency": "EUR", "customer": "Other"], ["fallback"]),
            (["amount": "1500", "currency": "EUR", "customer": "ACME"], ["fallback"]),
            (["amount": 5, "env": "prod"], ["not-test"]),
            (["amount": 5, "env": "test"], ["fallback"]),
            (["amount": 5], ["not-test"]),
        ] as [(JSONValue, [String])])
    func comparisonTable(data: JSONValue, expected: [String]) throws {
        #expect(try matched(Fixtures.event(type: "invoice.created", data: data)) == expected)
    }

    @Test func catchAllOnlyWhenNothingElseMatched() throws {
        let result = try Fixtures.routes(Self.routesYAML).route(
            Fixtures.event(type: "weather.changed", data: [:]), now: Date())
        #expect(result.matchedRoutes == ["fallback"])
        #expect(result.deliveries.first?.recipient == .reference(key: "ops"))
        if case .text(let t) = result.deliveries.first?.message.body { #expect(t == "unrouted weather.changed") }
    }

    @Test func withoutCatchAllAnUnmatchedEventIsUnroutable() throws {
        let router = try Fixtures.routes(
            """
            routes:
              - name: only
                match: { type: "a.b" }
                to: [ { reference: "x" } ]
                message: { text: "hi" }
            """)
        let result = router.route(Fixtures.event(type: "c.d", data: [:]), now: Date())
        #expect(result.isUnroutable)
        #expect(result.deliveries.isEmpty)
        #expect(result.rejections.isEmpty)
    }
}
