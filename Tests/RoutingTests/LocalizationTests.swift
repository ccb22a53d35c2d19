import Foundation
import HeraldJSON
import Testing

@testable import Routing

@Suite("Each recipient's language")
struct LocalizationTests {
    static let cards = [
        "en.json":
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Ticket ${data.id} assigned"}]}"#,
        "de.json":
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Ticket ${data.id} zugewiesen"}]}"#,
        "pt.json":
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Chamado ${data.id} atribuído"}]}"#,
        "typed.json":
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"typed ${data.id}"}]}"#,
        "due.json": #"""
        {"type":"AdaptiveCard","version":"1.5","body":[
          {"type":"TextBlock","text":"Due {{DATE(${data.due}, SHORT)}} at {{TIME(${data.due})}}"},
          {"type":"TextBlock","text":"{{DATE(2025-06-16T17:00:00Z, LONG)}}"}]}
        """#,
    ]

    static let yaml = """
        routes:
          - name: assigned
            match: { type: "ticket.assigned*" }
            to: [ { reference: "r" } ]
            message:
              card: en.json
              summary: "Ticket ${data.id}"
              cardsByType: { ticket.assigned.typed: typed.json }
              locales:
                de: { card: de.json, summary: "Ticket ${data.id} (de)" }
                pt-BR: pt.json
            locale: "${data.locale}"
          - name: texts
            match: { type: "ticket.text" }
            to: [ { reference: "r" } ]
            message:
              text: "Hello ${data.id}"
              locales: { de: "Hallo ${data.id}", fr: { summary: "Résumé" } }
        """

    static func text(_ message: RenderedMessage) -> String {
        switch message.body {
        case .card(let bytes): String(decoding: bytes, as: UTF8.self)
        case .text(let text): text
        case .none: ""
        }
    }

    func delivery(type: String = "ticket.assigned", locale: JSONValue = .null) throws -> Delivery {
        let router = try Fixtures.routes(Self.yaml, cards: Self.cards)
        let event = Fixtures.event(type: type, data: ["id": "HD-1", "locale": locale])
        return try #require(router.route(event, now: Date()).deliveries.first)
    }

    @Test(arguments: [
        ("de-AT", "de"), ("de", "de"), ("DE_at", "de"), ("pt-BR", "pt-BR"), ("pt-br", "pt-BR"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-CN", "zh"),
    ])
    func aLocaleFallsBackToEverShorterPrefixes(locale: String, expected: String) {
        #expect(LocaleMatch.best(locale, among: ["de", "pt-BR", "zh", "zh-Hant"]) == expected)
    }

    @Test(arguments: ["pt-PT", "fr", "en-US", "", "d", "-"])
    func aLocaleWithoutAMatchingTagHasNone(locale: String) {
        #expect(LocaleMatch.best(locale, among: ["de", "pt-BR"]) == nil)
    }

    @Test func theRecipientsLocalePicksTheVariantThenTheRoutesThenTheDefault() throws {
        let delivery = try delivery(locale: "pt-BR")
        #expect(Self.text(delivery.message(forRecipientLocale: "de-AT")).contains("Ticket HD-1 zugewiesen"))
        #expect(delivery.message(forRecipientLocale: "de-AT").summary == "Ticket HD-1 (de)")
        // No locale on the stored reference: the route's (the event's data) decides.
        #expect(Self.text(delivery.message(forRecipientLocale: nil)).contains("Chamado HD-1 atribuído"))
        #expect(delivery.message(forRecipientLocale: nil).summary == "Ticket HD-1", "pt-BR keeps the default summary")
        // The recipient reads English, which has no variant: the default, not the route's guess.
        #expect(Self.text(delivery.message(forRecipientLocale: "en-US")).contains("Ticket HD-1 assigned"))
        #expect(Self.text(try self.delivery().message(forRecipientLocale: nil)).contains("Ticket HD-1 assigned"))
    }

    @Test func aRouteLocaleThatIsNotATagIsIgnored() throws {
        let delivery = try delivery(locale: "de\"},{\"type\":\"x")
        #expect(delivery.locale == nil)
        #expect(Self.text(delivery.message(forRecipientLocale: nil)).contains("Ticket HD-1 assigned"))
    }

    @Test func cardsByTypeAreNotLocalizedButTheirSummaryIs() throws {
        let delivery = try delivery(type: "ticket.assigned.typed")
        let german = delivery.message(forRecipientLocale: "de")
        #expect(Self.text(german).contains("typed HD-1"))
        #expect(german.summary == "Ticket HD-1 (de)")
    }

    @Test func textMessagesHaveLanguagesTooAndAVariantMayChangeOnlyTheSummary() throws {
        let router = try Fixtures.routes(Self.yaml, cards: Self.cards)
        let delivery = try #require(
            router.route(Fixtures.event(type: "ticket.text", data: ["id": "7"]), now: Date()).deliveries.first)
        #expect(delivery.message(forRecipientLocale: "de-CH").body == .text("Hallo 7"))
        let french = delivery.message(forRecipientLocale: "fr-FR")
        #expect(french.body == .text("Hello 7"))
        #expect(french.summary == "Résumé")
    }

    @Test func adaptiveCardDateAndTimeFunctionsPassThroughUntouched() throws {
        let router = try Fixtures.routes(
            """
            routes:
              - name: due
                match: { type: "due" }
                to: [ { reference: "r" } ]
                message: { card: due.json }
            """, cards: Self.cards)
        for due in ["2025-06-16T17:00:00Z", "}}{{TIME(x)}}\"],\"x\":{\""] {
            let delivery = try #require(
                router.route(Fixtures.event(type: "due", data: ["due": .string(due)]), now: Date()).deliveries.first)
            let card = try #require(
                JSONSerialization.jsonObject(with: Data(Array(Self.text(delivery.message).utf8))) as? [String: Any])
            let blocks = try #require(card["body"] as? [[String: Any]])
            #expect(blocks.count == 2, "event data cannot change the card's structure")
            #expect(blocks[0]["text"] as? String == "Due {{DATE(\(due), SHORT)}} at {{TIME(\(due))}}")
            #expect(blocks[1]["text"] as? String == "{{DATE(2025-06-16T17:00:00Z, LONG)}}")
        }
    }

    @Test(arguments: [
        ("locales: { \"de AT\": en.json }", "is not a locale tag"),
        ("locales: { de: missing.json }", "cannot read the template file"),
        ("locales: { de: { card: de.json, text: \"x\" } }", "give either card or text"),
        ("locales: { de: {} }", "give card, text or summary"),
        ("locales: { de: en.json, DE: de.json }", "locale DE is given twice"),
        ("locales: []", "expected a map of locale"),
    ])
    func badLocalesAreProblemsWithTheirPlace(locales: String, problem: String) throws {
        let yaml = """
            routes:
              - name: bad
                match: { type: "x" }
                to: [ { reference: "r" } ]
                message:
                  card: en.json
                  \(locales)
            """
        let (_, problems) = RouteSet.parse(yaml: yaml, file: "routes.yaml") { path in
            (path, Self.cards[path].map { Array($0.utf8) })
        }
        #expect(problems.contains { $0.description.contains(problem) }, "\(problems)")
    }

    @Test func anOptOutRouteCannotHaveATextLanguage() throws {
        let yaml = """
            routes:
              - name: stoppable
                match: { type: "x" }
                to: [ { reference: "r" } ]
                message: { card: en.json, locales: { de: { text: "Hallo" } } }
                optOut: true
            """
        let (_, problems) = RouteSet.parse(yaml: yaml, file: "routes.yaml") { path in
            (path, Self.cards[path].map { Array($0.utf8) })
        }
        #expect(problems.contains { $0.description.contains("locale de is a text") }, "\(problems)")
    }
}

@Suite("Digest routes")
struct DigestRouteTests {
    static let cards = [
        "d.json": #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${count}"}]}"#
    ]

    static func problems(_ route: String) -> [String] {
        let yaml = """
            routes:
              - name: noisy
                match: { type: "x" }
                to: [ { reference: "r" } ]
            \(route)
            """
        return RouteSet.parse(yaml: yaml, file: "routes.yaml") { path in
            (path, Self.cards[path].map { Array($0.utf8) })
        }.1.map(\.description)
    }

    @Test(arguments: [
        ("    message: { card: d.json }\n    digest: { mode: sometimes, window: 1m }", "must be batch or live"),
        ("    message: { card: d.json }\n    digest: { maxItems: 5 }", "window is required"),
        ("    message: { card: d.json }\n    digest: { window: soon }", "is not a duration"),
        ("    message: { card: d.json }\n    digest: { window: 1m, maxItems: 0 }", "from 1 to 500"),
        ("    message: { card: d.json }\n    digest: { window: 30d }", "at most 7d"),
        ("    message: { card: d.json }\n    digest: { window: 1m, minInterval: 5s }", "minInterval is for mode: live"),
        (
            "    message: { card: d.json }\n    notificationKey: \"k\"\n    digest: { window: 1m }",
            "notificationKey does not apply"
        ),
        (
            "    message: { text: \"${data.id}\" }\n    digest: { window: 1m }",
            "path 'data.id' can never resolve: paths start with count, items, key"
        ),
        ("    message: { card: d.json }\n    digest: { window: 1m, cadence: 2 }", "cadence"),
    ])
    func aDigestThatCannotWorkIsAProblemWithItsFix(route: String, problem: String) {
        let problems = Self.problems(route)
        #expect(problems.contains { $0.contains(problem) }, "\(problems)")
    }

    @Test func aDigestRoutesDeliveriesCarryTheirPlanAndNoMessageAndAnUpdateIsRejected() throws {
        let router = try Fixtures.routes(
            """
            routes:
              - name: noisy
                match: { type: "x" }
                to: [ { reference: "r" } ]
                message: { text: "${count} of ${key}" }
                digest: { mode: live, window: 10m, key: "${data.project}", minInterval: 5s }
            """)
        let send = router.route(Fixtures.event(type: "x", data: ["project": "p1"]), now: Date())
        let delivery = try #require(send.deliveries.first)
        #expect(delivery.message.body == .none, "rendered when the digest is sent")
        #expect(delivery.digest?.key == "p1" && delivery.digest?.mode == .live)
        #expect(delivery.digest?.window == .seconds(600) && delivery.digest?.minInterval == .seconds(5))
        #expect(delivery.digest?.maxItems == 25 && delivery.digest?.data == ["project": "p1"])
        let rendered = try #require(
            try router.renderDigest(route: "noisy", items: [.null, .null], key: "p1", digestId: "d"))
        #expect(rendered.message.body == .text("2 of p1"))
        #expect(try router.renderDigest(route: "gone", items: [], key: "", digestId: "d") == nil)
        var update = Fixtures.event(type: "x", data: ["project": "p1"])
        update.herald.action = .update
        update.herald.notificationKey = "k"
        let rejected = router.route(update, now: Date())
        #expect(rejected.deliveries.isEmpty && rejected.rejections.first?.code == .digestAction)
    }
}
