import Foundation
import HeraldJSON
import Testing

@testable import Routing

/// Herald's buttons: every Action.Execute and Action.Submit a card renders carries the herald block that tells
/// the gateway which delivery a press was about; routes may add the opt-out button; nothing an event or a
/// presser sends can add, remove or change a button or that block.
@Suite struct CardActionTests {
    static let stamp = CardActionStamp(
        route: "tickets", eventId: "evt-1", notificationKey: "ticket-42", deliveryId: "d-1")
    static let herald: JSONValue = [
        "route": "tickets", "eventId": "evt-1", "notificationKey": "ticket-42", "deliveryId": "d-1",
    ]

    func card(_ json: String) throws -> CardTemplate { try CardTemplate(json: Array(json.utf8)) }

    func render(
        _ template: CardTemplate, data: JSONValue = [:], stamp: CardActionStamp = stamp, optOut: OptOutButton? = nil,
        limits: RenderLimits = RenderLimits()
    ) throws -> (card: JSONValue, bytes: [UInt8], slots: [Int]) {
        var out: [UInt8] = []
        let slots = try template.render(
            in: EvaluationScope(event: Fixtures.event(data: data)), limits: limits, stamp: stamp, optOut: optOut,
            into: &out)
        return (try JSONParser.parse(out), out, slots)
    }

    /// Every Action.Execute and Action.Submit in a rendered card, with its JSON path, found by walking the output.
    static func buttons(_ value: JSONValue, path: String = "$") -> [(path: String, button: JSONValue)] {
        switch value {
        case .object(let members):
            if case .string(let type)? = value["type"], type == "Action.Execute" || type == "Action.Submit" {
                return [(path, value)]
                    + members.filter { $0.key != "data" }.flatMap { buttons($0.value, path: "\(path).\($0.key)") }
            }
            return members.flatMap { buttons($0.value, path: "\(path).\($0.key)") }
        case .array(let elements):
            return elements.enumerated().flatMap { buttons($0.element, path: "\(path)[\($0.offset)]") }
        default:
            return []
        }
    }

    static func keys(_ value: JSONValue?) -> [String] {
        if case .object(let members)? = value { return members.map(\.key) }
        return []
    }

    static let everywhere = """
        {"type":"AdaptiveCard","version":"1.5",
         "body":[
           {"type":"TextBlock","text":"${data.title}"},
           {"type":"ActionSet","actions":[{"type":"Action.Execute","title":"Approve","verb":"approve"}]},
           {"type":"Container","items":[],"selectAction":{"type":"Action.Submit","data":{"verb":"open"}}},
           {"type":"ActionSet","actions":[{"$data":"${data.choices}","type":"Action.Execute","title":"${label}",
             "verb":"pick","data":{"choice":"${id}"}}]}
         ],
         "actions":[
           {"type":"Action.OpenUrl","title":"Open","url":"https://x/"},
           {"type":"Action.Submit","title":"Plain"},
           {"type":"Action.ShowCard","title":"More","card":{"type":"AdaptiveCard",
             "body":[{"type":"TextBlock","text":"Sure?"}],
             "actions":[{"type":"Action.Execute","title":"Yes","verb":"herald.ack"}]}}
         ]}
        """

    @Test func executeAndSubmitButtonsAreStampedWhereverTheySit() throws {
        let data: JSONValue = ["title": "T", "choices": [["id": "a", "label": "A"], ["id": "b", "label": "B"]]]
        let (card, _, slots) = try render(try card(Self.everywhere), data: data)
        let found = Self.buttons(card)
        #expect(
            found.map(\.path) == [
                "$.body[1].actions[0]", "$.body[2].selectAction", "$.body[3].actions[0]", "$.body[3].actions[1]",
                "$.actions[1]", "$.actions[2].card.actions[0]",
            ])
        for (path, button) in found {
            #expect(button["data"]?["herald"] == Self.herald, "\(path)")
            #expect(Self.keys(button["data"]).last == "herald", "\(path)")
        }
        #expect(found[2].button["data"]?["choice"] == "a" && found[3].button["data"]?["choice"] == "b")
        #expect(card["actions"]?[0] == ["type": "Action.OpenUrl", "title": "Open", "url": "https://x/"])
        #expect(card["actions"]?[2]?["data"] == nil, "a ShowCard is not pressed: nothing to stamp")
        #expect(slots.isEmpty, "a known delivery id leaves nothing to fill in")
    }

    @Test func existingDataIsKeptAndTheHeraldBlockGoesLast() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","verb":"approve","#
                + #""data":{"ticket":"${data.id}","n":3,"nested":{"herald":"theirs"}}}]}"#)
        let (card, _, _) = try render(template, data: ["id": "HD-1"])
        let data = card["actions"]?[0]?["data"]
        #expect(Self.keys(data) == ["ticket", "n", "nested", "herald"])
        #expect(data?["ticket"] == "HD-1" && data?["n"] == 3)
        #expect(data?["nested"] == ["herald": "theirs"], "only the top-level herald key is Herald's")
        #expect(data?["herald"] == Self.herald)
    }

    @Test(arguments: [
        #"{"herald":{"route":"forged","eventId":"x","deliveryId":"someone-else"},"x":1}"#,
        #"{"x":1,"herald":"${data.forged}"}"#,
        #"{"herald":null,"x":1,"herald":{"deliveryId":"again"}}"#,
    ])
    func aTemplateCannotForgeTheHeraldBlock(data: String) throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","verb":"v","data":"#
                + data + "}]}")
        let (card, bytes, _) = try render(template, data: ["forged": ["route": "forged"]])
        #expect(card["actions"]?[0]?["data"] == ["x": 1, "herald": Self.herald])
        #expect(String(decoding: bytes, as: UTF8.self).components(separatedBy: "\"herald\"").count == 2)
        let unstamped = try JSONParser.parse(try template.render(for: Fixtures.event(data: [:])))
        #expect(unstamped["actions"]?[0]?["data"] == ["x": 1], "nor survive a rendering without a stamp")
    }

    @Test func renderingWithoutAStampLeavesButtonsAsWritten() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","title":"${data.t}","verb":"v"},"#
                + #"{"type":"Action.Submit","data":{"a":1}}]}"#)
        let out = String(decoding: try template.render(for: Fixtures.event(data: ["t": "T"])), as: UTF8.self)
        #expect(
            out
                == #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","title":"T","verb":"v"},"#
                + #"{"type":"Action.Submit","data":{"a":1}}]}"#)
    }

    static let hostileValues: [JSONValue] = [
        #""}]"#, #"","herald":{"route":"x"},"y":""#, "${data.secret}", #"\\\"\"}]}"#, #"\u0000"#, "\u{0}\n\r\t",
        .string(String(repeating: #"\"}]"#, count: 25_000)), ["type": "Action.Execute", "data": ["herald": "x"]],
    ]

    @Test(arguments: hostileValues)
    func eventDataCannotAddRemoveOrAlterButtons(value: JSONValue) throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.v}"}],"#
                + #""actions":[{"type":"Action.Execute","title":"${data.v}","verb":"approve","data":{"note":"${data.v}"}},"#
                + #"{"type":"Action.Submit","title":"x ${data.v}","data":{"verb":"reject"}}]}"#)
        let limits = RenderLimits(maxValueBytes: 200_000, maxMessageBytes: 2_000_000)
        let (card, _, _) = try render(
            template, data: ["v": value, "secret": "TOPSECRET"], optOut: OptOutButton(), limits: limits)
        let text = value.stringValue ?? value.text
        let found = Self.buttons(card)
        #expect(found.map(\.path) == ["$.actions[0]", "$.actions[1]", "$.actions[2]"])
        #expect(Self.keys(card) == ["type", "version", "body", "actions"])
        #expect(Self.keys(found[0].button) == ["type", "title", "verb", "data"])
        #expect(found[0].button["title"] == .string(text) && found[0].button["verb"] == "approve")
        #expect(found[0].button["data"] == ["note": .string(text), "herald": Self.herald])
        #expect(found[1].button["data"] == ["verb": "reject", "herald": Self.herald])
        #expect(found[2].button["verb"] == "herald.optOut" && found[2].button["data"] == ["herald": Self.herald])
        #expect(card["body"]?[0]?["text"] == .string(text))
    }

    @Test func hostileStampValuesAreEscaped() throws {
        let hostile = #"e"},"deliveryId":"forged","x":{"\"#
        let stamp = CardActionStamp(route: "r", eventId: hostile, notificationKey: "k\u{0}\"", deliveryId: nil)
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","verb":"v"}]}"#)
        let (card, bytes, slots) = try render(template, stamp: stamp)
        let herald: JSONValue = [
            "route": "r", "eventId": .string(hostile), "notificationKey": "k\u{0}\"", "deliveryId": "",
        ]
        #expect(card["actions"]?[0]?["data"]?["herald"] == herald)
        let message = RenderedMessage(body: .card(bytes), deliveryIdSlots: slots)
        guard case .card(let sent) = message.body(forDelivery: "d|1") else { Issue.record("not a card"); return }
        #expect(try JSONParser.parse(sent)["actions"]?[0]?["data"]?["herald"]?["deliveryId"] == "d|1")
        #expect(try JSONParser.parse(sent)["actions"]?[0]?["data"]?["herald"]?["eventId"] == .string(hostile))
    }

    @Test(arguments: [
        "evt-1|tickets|user:aad:t/a", #"quote"and\backslash"#, "pipe|%7C|", "ünïcödé/日本", "emoji 🔔👩🏽‍💻",
        "control\u{1}\n", "",
    ])
    func deliveryIdsAreSplicedIntoEverySlot(deliveryId: String) throws {
        let stamp = CardActionStamp(route: "tickets", eventId: "evt-1", notificationKey: nil, deliveryId: nil)
        let data: JSONValue = ["title": "T", "choices": [["id": "a", "label": "A"], ["id": "b", "label": "B"]]]
        let (_, bytes, slots) = try render(try card(Self.everywhere), data: data, stamp: stamp, optOut: OptOutButton())
        #expect(slots.count == 7, "six buttons and the opt-out")
        #expect(slots == slots.sorted())
        let message = RenderedMessage(body: .card(bytes), deliveryIdSlots: slots)
        guard case .card(let sent) = message.body(forDelivery: deliveryId) else { Issue.record("not a card"); return }
        let found = Self.buttons(try JSONParser.parse(sent))
        #expect(found.count == 7)
        for (path, button) in found {
            #expect(
                button["data"]?["herald"]
                    == ["route": "tickets", "eventId": "evt-1", "deliveryId": .string(deliveryId)], "\(path)")
        }
        #expect(message.body(forDelivery: deliveryId) == .card(sent), "the same every time")
        #expect(RenderedMessage(body: .text("hi")).body(forDelivery: deliveryId) == .text("hi"))
    }

    @Test(arguments: [
        // version, actions member, and the number of actions before the opt-out
        ("1.5", #","actions":[{"type":"Action.Execute","verb":"v"}]"#, 1),
        ("1.5", #","actions":[]"#, 0),
        ("1.5", "", 0),
        ("1.3", #","actions":[{"type":"Action.Submit","title":"${data.t}"},{"type":"Action.OpenUrl","url":"u"}]"#, 2),
        ("1.3", "", 0),
        ("1.2", #","actions":[{"type":"Action.OpenUrl","url":"u"}]"#, 1),
    ])
    func theOptOutButtonEndsTheRootCardsActions(version: String, actions: String, before: Int) throws {
        for body in [#"[{"type":"TextBlock","text":"static"}]"#, #"[{"type":"TextBlock","text":"${data.t}"}]"#] {
            let template = try card(
                #"{"type":"AdaptiveCard","version":""# + version + #"","body":"# + body + actions + "}")
            let (card, _, _) = try render(template, data: ["t": "T"], optOut: OptOutButton())
            guard case .array(let list)? = card["actions"] else {
                Issue.record("no actions in \(card)")
                continue
            }
            #expect(list.count == before + 1)
            let expected: JSONValue =
                version >= "1.4"
                ? [
                    "type": "Action.Execute", "title": "Stop these notifications", "verb": "herald.optOut",
                    "data": ["herald": Self.herald],
                ]
                : [
                    "type": "Action.Submit", "title": "Stop these notifications",
                    "data": ["verb": "herald.optOut", "herald": Self.herald],
                ]
            #expect(list.last == expected, "\(version) \(body)")
            #expect(card["body"]?[0]?["text"] != nil)
            let (without, _, _) = try render(template, data: ["t": "T"])
            #expect(without["actions"].map { if case .array(let a) = $0 { a.count } else { -1 } } ?? 0 == before)
        }
    }

    @Test func theOptOutButtonGoesOnTheRootCardOnlyAndTakesItsTitle() throws {
        let (card, _, _) = try render(
            try card(Self.everywhere), data: ["choices": []], optOut: OptOutButton(title: "Mute \"tickets\""))
        #expect(card["actions"]?[3]?["title"] == #"Mute "tickets""#)
        #expect(card["actions"]?[2]?["card"]?["actions"].map { if case .array(let a) = $0 { a.count } else { 0 } } == 1)
    }

    @Test(arguments: [
        (
            #"{"type":"AdaptiveCard","version":"1.3","body":[{"type":"TextBlock","text":"x"},"#
                + #"{"type":"ActionSet","actions":[{"type":"Action.Execute","verb":"v"}]}]}"#,
            "$.body[1].actions[0]", "Action.Execute needs card version 1.4 or higher"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Submit","data":"just text"}]}"#,
            "$.actions[0].data", "Herald adds its herald block there"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","data":[1]}]}"#,
            "$.actions[0].data", "must be a JSON object"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"${data.kind}","text":"x"}]}"#,
            "$.body[0].type", "an element's type cannot come from event data"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.${data.k}","verb":"v"}]}"#,
            "$.actions[0].type", "an element's type cannot come from event data"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.OpenUrl","type":"Action.Submit"}]}"#,
            "$.actions[0]", "\"type\" appears twice"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Submit","data":{"$when":"${data.x}"}}]}"#,
            "$.actions[0].data.$when", "put $when on the button"
        ),
        (#"{"type":"AdaptiveCard","version":"1.5","actions":{"type":"Action.Submit"}}"#, "$.actions", "a list"),
    ])
    func buttonMistakesAreRejectedWithTheirJSONPath(json: String, location: String, message: String) {
        let error = #expect(throws: TemplateError.self) { try card(json) }
        #expect(error?.code == .invalidCard)
        #expect(error?.location == location)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func buttonDataMayComeFromEventsEvenItsType() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Submit","data":{"type":"${data.k}"}}]}"#
        )
        let (card, _, _) = try render(template, data: ["k": "Action.Execute"])
        #expect(card["actions"]?[0]?["data"] == ["type": "Action.Execute", "herald": Self.herald])
    }

    @Test func verbsAreTheLiteralVerbsOfTheButtons() throws {
        #expect(try card(Self.everywhere).verbs == ["approve", "open", "pick", CardVerb.ack])
        let dynamic = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","verb":"${data.v}"},"#
                + #"{"type":"Action.Submit","data":{"verb":"${data.v}"}},{"type":"Action.OpenUrl","url":"u","verb":"no"}]}"#
        )
        #expect(dynamic.verbs.isEmpty)
    }

    @Test func theSizeLimitCountsHeraldsAdditions() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Execute","verb":"v","$data":"${data.n}"}]}"#
        )
        let items = JSONValue.array(Array(repeating: 1, count: 40))
        let plain = try template.render(for: Fixtures.event(data: ["n": items]))
        let limits = RenderLimits(maxMessageBytes: TeamsMessageSize.of(json: plain) + 200)
        #expect(try template.render(for: Fixtures.event(data: ["n": items]), limits: limits).count == plain.count)
        let error = #expect(throws: TemplateError.self) { try render(template, data: ["n": items], limits: limits) }
        #expect(error?.code == .messageTooLarge)
        let staticCard = try card(#"{"type":"AdaptiveCard","version":"1.5","body":[]}"#)
        let tight = RenderLimits(maxMessageBytes: 120)  // the card alone is 98 bytes as Teams counts them
        _ = try render(staticCard, limits: tight)
        #expect(throws: TemplateError.self) { try render(staticCard, optOut: OptOutButton(), limits: tight) }
    }

    static let answer = try! CardTemplate(
        json: Array(
            (#"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Approved by ${actor.name} at ${action.time}"},"#
                + #"{"type":"TextBlock","text":"${data.x}|${data.herald.route}|${id}|${action.verb}"}],"#
                + #""actions":[{"type":"Action.Execute","title":"Undo ${data.x}","verb":"unapprove","data":{"x":"${data.x}"}}]}"#)
                .utf8))

    @Test(arguments: hostileValues)
    func answersRenderThePressWithoutChangingTheirStructure(value: JSONValue) throws {
        let context = ActionContext(
            data: ["x": value, "herald": ["route": "tickets", "deliveryId": "d-1"]],
            actor: ["name": value, "aadObjectId": "aad-1", "id": "29:1"], action: ["verb": "approve", "time": value])
        var out: [UInt8] = []
        let limits = RenderLimits(maxValueBytes: 200_000, maxMessageBytes: 2_000_000)
        let slots = try Self.answer.render(
            in: EvaluationScope(action: context), limits: limits, stamp: Self.stamp, optOut: nil, into: &out)
        #expect(slots.isEmpty)
        let card = try JSONParser.parse(out)
        let text = value.stringValue ?? value.text
        #expect(Self.keys(card) == ["type", "version", "body", "actions"])
        #expect(card["body"]?[0]?["text"] == .string("Approved by \(text) at \(text)"))
        #expect(card["body"]?[1]?["text"] == .string("\(text)|||approve"), "no herald block, no event roots")
        let buttons = Self.buttons(card)
        #expect(buttons.count == 1)
        #expect(buttons.first?.button["data"] == ["x": .string(text), "herald": Self.herald])
        let reply = try TextTemplate("Thanks ${actor.name}: ${data.x} (${data.herald.deliveryId})")
            .render(in: EvaluationScope(action: context), limits: limits)
        #expect(reply == "Thanks \(text): \(text) ()")
    }

    @Test(arguments: ["", "all"])
    func theDefaultConfirmationsOfferTheWayBackForTheSameScope(scope: String) throws {
        let context = ActionContext(
            data: ["scope": .string(scope), "herald": ["route": "forged"]], actor: ["name": "Dana"],
            action: ["verb": "herald.optOut", "time": "2026-01-01T00:00:00Z"])
        for (template, text, verb) in [
            (CardActionDefaults.optOutConfirmation, "You will no longer get these notifications.", CardVerb.optIn),
            (CardTemplate.defaultOptInConfirmation, "You will get these notifications again.", CardVerb.optOut),
        ] {
            var out: [UInt8] = []
            _ = try template.render(
                in: EvaluationScope(action: context), limits: RenderLimits(), stamp: Self.stamp, optOut: nil, into: &out
            )
            let card = try JSONParser.parse(out)
            #expect(card["body"]?[0]?["text"] == .string(text))
            let buttons = Self.buttons(card)
            #expect(buttons.count == 1)
            #expect(buttons.first?.button["verb"] == .string(verb))
            #expect(buttons.first?.button["data"] == ["scope": .string(scope), "herald": Self.herald])
            #expect(template.verbs == [verb])
        }
    }

    static let routesYAML = """
        routes:
          - name: tickets
            match: { type: "com.example.helpdesk.ticket.assigned" }
            to: [ { reference: "a" }, { reference: "b|c" } ]
            message: { card: ack.json }
            notificationKey: "ticket-${data.id}"
            optOut: true
          - name: by-type
            match: { type: "com.example.by*" }
            to: [ { reference: "a" } ]
            message: { card: ack.json, cardsByType: { "com.example.byType": plain.json } }
            optOut: true
          - name: quiet
            match: { type: "com.example.quiet" }
            to: [ { reference: "a" } ]
            message: { card: plain.json }
          - name: ack-only
            match: { type: "com.example.ack" }
            to: [ { reference: "a" } ]
            message: { card: ack.json }
          - name: texts
            match: { type: "com.example.text" }
            to: [ { reference: "a" } ]
            message: { text: "hi ${data.id}" }
        """
    static let cards = [
        "ack.json":
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.id}"}],"#
            + #""actions":[{"type":"Action.Execute","title":"Acknowledge","verb":"herald.ack"}]}"#,
        "plain.json": #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.id}"}]}"#,
    ]

    func deliveries(_ type: String, id: String = "evt-1") throws -> [Delivery] {
        let router = try Fixtures.routes(Self.routesYAML, cards: Self.cards)
        return router.route(Fixtures.event(type: type, data: ["id": "42"], id: id), now: Date()).deliveries
    }

    func sentButtons(_ delivery: Delivery) throws -> [JSONValue] {
        guard case .card(let bytes) = delivery.message.body(forDelivery: delivery.deliveryId) else { return [] }
        return Self.buttons(try JSONParser.parse(bytes)).map(\.button)
    }

    @Test func eachDeliveryOfASharedCardNamesItself() throws {
        let deliveries = try deliveries("com.example.helpdesk.ticket.assigned", id: #"evt"1"#)
        #expect(deliveries.count == 2)
        for delivery in deliveries {
            let buttons = try sentButtons(delivery)
            #expect(buttons.map { $0["verb"] } == ["herald.ack", "herald.optOut"])
            for button in buttons {
                #expect(
                    button["data"]?["herald"]
                        == [
                            "route": "tickets", "eventId": #"evt"1"#, "notificationKey": "ticket-42",
                            "deliveryId": .string(delivery.deliveryId),
                        ])
            }
            #expect(delivery.message.keepsCard)
        }
        #expect(deliveries[0].message.body == deliveries[1].message.body, "one rendering, shared")
        #expect(deliveries[1].deliveryId.contains("b%7Cc"))
    }

    @Test func cardsByTypeAreStampedTooAndTextIsUntouched() throws {
        let byType = try #require(try deliveries("com.example.byType").first)
        #expect(try sentButtons(byType).map { $0["verb"] } == ["herald.optOut"])
        #expect(byType.message.keepsCard, "the opt-out is answered with the card")
        #expect(try sentButtons(byType).first?["data"]?["herald"]?["route"] == "by-type")
        let other = try #require(try deliveries("com.example.byOther").first)
        #expect(try sentButtons(other).map { $0["verb"] } == ["herald.ack", "herald.optOut"])
        let text = try #require(try deliveries("com.example.text").first)
        #expect(text.message.body == .text("hi 42") && text.message.deliveryIdSlots.isEmpty)
        #expect(!text.message.keepsCard)
    }

    @Test func onlyCardsWithAcknowledgeOrOptOutAreKept() throws {
        let quiet = try #require(try deliveries("com.example.quiet").first)
        #expect(!quiet.message.keepsCard && quiet.message.deliveryIdSlots.isEmpty)
        #expect(try sentButtons(quiet).isEmpty)
        let ack = try #require(try deliveries("com.example.ack").first)
        #expect(ack.message.keepsCard)
        #expect(try sentButtons(ack).map { $0["verb"] } == ["herald.ack"])
    }
}
