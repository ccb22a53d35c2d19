import Foundation
import HeraldJSON
import Testing

@testable import Routing

@Suite struct TemplateRenderingTests {
    func card(_ json: String) throws -> CardTemplate { try CardTemplate(json: Array(json.utf8)) }

    func render(_ template: CardTemplate, _ data: JSONValue, limits: RenderLimits = RenderLimits()) throws -> String {
        String(decoding: try template.render(for: Fixtures.event(data: data), limits: limits), as: UTF8.self)
    }

    func example(_ name: String) throws -> CardTemplate {
        try CardTemplate(json: [UInt8](Data(contentsOf: Fixtures.examples.appendingPathComponent("templates/\(name)"))))
    }

    @Test func assignmentCardGolden() throws {
        let data = Fixtures.ticketData.setting("dueAt", "2025-06-16T17:00:00Z")
        let out = try render(try example("ticket-assigned.json"), data)
        #expect(
            out == """
                {"type":"AdaptiveCard","$schema":"http://adaptivecards.io/schemas/adaptive-card.json","version":"1.5",\
                "body":[{"type":"TextBlock","size":"Medium","weight":"Bolder","text":"Ticket HD-4711: Printer jams","wrap":true},\
                {"type":"TextBlock","text":"Assigned to you by Dana","isSubtle":true,"spacing":"None","wrap":true},\
                {"type":"FactSet","facts":[{"title":"Priority","value":"HIGH"},{"title":"Customer","value":"Contoso"},\
                {"title":"Due","value":"{{DATE(2025-06-16T17:00:00Z, SHORT)}} {{TIME(2025-06-16T17:00:00Z)}}"}]}],\
                "actions":[{"type":"Action.Execute","title":"Acknowledge","verb":"herald.ack"},\
                {"type":"Action.Execute","title":"I'm on it","verb":"ticket.accept","data":{"ticket":"HD-4711"}},\
                {"type":"Action.OpenUrl","title":"Open ticket","url":"https://helpdesk.example.com/tickets/HD-4711"}]}
                """)
    }

    @Test func digestCardRepeatsOverTheList() throws {
        let data: JSONValue = [
            "team": "Facilities", "date": "2025-06-16", "overdue": 1, "queueUrl": "https://q",
            "tickets": [
                ["id": "HD-1", "title": "Printer", "assignee": "Dana", "overdue": true],
                ["id": "HD-2", "title": "Desk", "assignee": "Fox", "overdue": false],
            ],
        ]
        let out = try render(try example("daily-digest.json"), data)
        let parsed = try JSONParser.parse(out)
        guard case .array(let body)? = parsed["body"] else { Issue.record("no body"); return }
        #expect(body.count == 4, "two header blocks plus one ColumnSet per ticket")
        #expect(body[1]["text"] == "2 open tickets, 1 overdue")
        #expect(body[2]["columns"]?[0]?["items"]?[0]?["text"] == "HD-1")
        #expect(body[2]["columns"]?[2]?["items"]?[0]?["text"] == "overdue")
        #expect(body[3]["columns"]?[0]?["items"]?[0]?["text"] == "HD-2")
        #expect(body[3]["columns"]?[2]?["items"]?[0]?["text"] == "Fox", "$when dropped the overdue marker")
        #expect(body[2]["$data"] == nil)
    }

    @Test func emptyListRendersNoCopies() throws {
        let out = try render(try example("daily-digest.json"), ["tickets": []])
        #expect(try JSONParser.parse(out)["body"].map { if case .array(let a) = $0 { a.count } else { -1 } } == 2)
    }

    @Test(arguments: [
        #"", "injected": true, "x": ""#,
        #"\"}]}, {"type":"Action.Submit"}"#,
        "${data.secret}",
        "}{][,:\\\\\\\"",
        "line\nbreak\u{0}nul",
    ])
    func eventDataCannotChangeTheCardsStructure(hostile: String) throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Title: ${data.title}"},{"type":"TextBlock","text":"${data.title}"}]}"#
        )
        let out = try render(template, ["title": .string(hostile), "secret": "TOPSECRET"])
        let parsed = try JSONParser.parse(out)
        #expect(parsed["body"]?[0]?["text"] == .string("Title: " + hostile))
        #expect(parsed["body"]?[1]?["text"] == .string(hostile))
        guard case .object(let members) = parsed, case .object(let block)? = parsed["body"]?[0] else {
            Issue.record("structure changed"); return
        }
        #expect(members.map(\.key) == ["type", "version", "body"])
        #expect(block.map(\.key) == ["type", "text"])
        #expect(!out.contains("TOPSECRET"), "values are not templates themselves")
    }

    @Test func objectsFromEventsBecomeTextNotStructure() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.obj}"}]}"#)
        let out = try render(template, ["obj": ["type": "Action.Submit", "data": [1, 2]]])
        #expect(try JSONParser.parse(out)["body"]?[0]?["text"] == #"{"type":"Action.Submit","data":[1,2]}"#)
    }

    @Test func numbersAndBooleansKeepTheirTypeOnlyWhenTheWholeStringIsOneBinding() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"n=${data.n}","isVisible":"${data.flag}","maxLines":"${data.n}"}]}"#
        )
        let out = try render(template, ["n": 3, "flag": false])
        #expect(out.contains(#""text":"n=3","isVisible":false,"maxLines":3"#))
    }

    @Test func hugeValuesFailWithALimitNotMemory() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.big}"}]}"#)
        let big = String(repeating: "x", count: 5_000_000)
        let error = #expect(throws: TemplateError.self) { try render(template, ["big": .string(big)]) }
        #expect(error?.code == .valueTooLarge)
    }

    @Test func repetitionIsBoundedByTheCardSizeLimit() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","$data":"${data.items}","text":"${name}"}]}"#
        )
        let items = JSONValue.array(
            Array(repeating: ["name": .string(String(repeating: "y", count: 1000))], count: 400))
        let error = #expect(throws: TemplateError.self) { try render(template, ["items": items]) }
        #expect(error?.code == .messageTooLarge)
        let tooMany = JSONValue.array(Array(repeating: ["name": "z"], count: 10_000))
        #expect(throws: TemplateError.self) { try render(template, ["items": tooMany]) }
    }

    @Test func expressionsCoverOperatorsAndFunctions() throws {
        let scope = EvaluationScope(event: Fixtures.event(data: ["a": 2, "b": "x", "list": ["p", "q"], "empty": ""]))
        let cases: [(String, String)] = [
            ("${data.a > 1 && data.b == 'x'}", "true"),
            ("${!(data.a <= 1) || false}", "true"),
            ("${data.a != 2}", "false"),
            ("${if(data.missing, 'yes', 'no')}", "no"),
            ("${toLower('ABC')}${toUpper(data.b)}", "abcX"),
            ("${count(data.list)} ${join(data.list, '+')}", "2 p+q"),
            ("${coalesce(data.empty, data.missing, 'fallback')}", "fallback"),
            ("${concat(type, ':', id)}", "com.example.helpdesk.ticket.assigned:evt-1"),
            ("[${data.nothing.at.all}]", "[]"),
            ("${data.list[1]}", "q"),
        ]
        for (source, expected) in cases {
            #expect(try TextTemplate(source).render(in: scope, limits: RenderLimits()) == expected, "\(source)")
        }
    }

    @Test(arguments: [
        ("${data.x", TemplateError.Code.syntax), ("${nope(data.x)}", .unknownFunction), ("${data.x ==}", .syntax),
        ("${if(a)}", .syntax), ("${'unterminated}", .syntax), ("${data..x}", .syntax),
    ])
    func templateSyntaxErrors(source: String, code: TemplateError.Code) {
        let error = #expect(throws: TemplateError.self) { try TextTemplate(source) }
        #expect(error?.code == code)
    }

    @Test(arguments: [
        (#"{"type":"AdaptiveCard","version":"1.6","body":[]}"#, "$.version"),
        (#"{"type":"AdaptiveCard","body":[]}"#, "$.version"),
        (#"{"type":"MessageCard","version":"1.0"}"#, "$.type"),
        (
            #"{"type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock","text":"${oops(1)}"}]}"#,
            "$.body[0].text"
        ),
        (
            #"{"type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock","$when":"not an expression"}]}"#,
            "$.body[0].$when"
        ),
    ])
    func invalidCardsAreRejectedWithTheirJSONPath(json: String, location: String) {
        let error = #expect(throws: TemplateError.self) { try card(json) }
        #expect(error?.location == location)
    }

    @Test func staticSubtreesArePrecompiled() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"Image","url":"https://x/y.png"}]}"#)
        if case .literal = template.root {} else { Issue.record("a card without bindings should be one literal") }
        #expect(
            try render(template, [:])
                == #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"Image","url":"https://x/y.png"}]}"#)
    }

    @Test func repetitionSeesItsItemIndexAndTheRoot() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","$data":"${data.items}","#
                + #""text":"${$index}. ${name} of ${count($root.data.items)} for ${$root.data.owner} (${$data.name})"}]}"#
        )
        let out = try render(template, ["owner": "Dana", "items": [["name": "a"], ["name": "b"]]])
        let body = try JSONParser.parse(out)["body"]
        #expect(body?[0]?["text"] == "0. a of 2 for Dana (a)")
        #expect(body?[1]?["text"] == "1. b of 2 for Dana (b)")
    }

    @Test func dataOnANonArrayValueRebindsTheScopeOnce() throws {
        let template = try card(
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","$data":"${data.person}","text":"${name}"}],"#
                + #""selectAction":{"$data":"${data.person}","type":"Action.OpenUrl","url":"${url}"}}"#)
        let out = try render(template, ["person": ["name": "Dana", "url": "https://p/dana"]])
        #expect(out.contains(#""body":[{"type":"TextBlock","text":"Dana"}]"#))
        #expect(out.contains(#""selectAction":{"type":"Action.OpenUrl","url":"https://p/dana"}"#))
    }
}
