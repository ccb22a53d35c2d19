import Foundation
import HeraldConfig
import Testing

@testable import Routing

/// `herald validate`'s messages for distinct mistakes: each names the file, the place and the problem.
@Suite struct ValidateTests {
    static let config = """
        kafka:
          brokers: embedded
          eventsTopics: [notifications]
        bot:
          appId: app
        store:
          url: "sqlite:///tmp/h.db"
        routing:
          routesFile: routes.yaml
        """

    static let goodCard = #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.x}"}]}"#

    /// Validates a config + routes (route text appended after a valid route) and returns the problem lines.
    func problems(routes: String, files: [String: String] = [:], config: String = config) throws -> [String] {
        var all = files
        all["herald.yaml"] = config
        all["routes.yaml"] = routes
        all["templates/good.json"] = all["templates/good.json"] ?? Self.goodCard
        let dir = try Fixtures.folder(all)
        defer { try? FileManager.default.removeItem(at: dir) }
        return Validator.validate(configFile: dir.appendingPathComponent("herald.yaml").path, environment: [:])
            .map { $0.description.replacingOccurrences(of: dir.path + "/", with: "") }
    }

    func route(_ body: String) -> String {
        "routes:\n  - name: r1\n"
            + body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }

    @Test func theExamplesAreValid() {
        let problems = Validator.validate(
            configFile: Fixtures.examples.appendingPathComponent("herald.yaml").path, environment: [:])
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(arguments: [
        // 1 unknown route key
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\ncolour: red",
            "routes.yaml:6:5: route 'r1': unknown key 'colour'"
        ),
        // 2 bad glob
        (
            "match: { type: \"a.[b\" }\nto: [ { reference: x } ]\nmessage: { text: hi }",
            "routes.yaml:3:20: route 'r1' match.type: bad glob: unterminated '['"
        ),
        // 3 unknown template file
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { card: templates/missing.json }",
            "routes.yaml:5:22: route 'r1' message.card: cannot read the template file \"templates/missing.json\""
        ),
        // 4 template syntax error in a route text
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: \"Hi ${data.name\" }",
            "route 'r1' message.text: '${' without a closing '}'"
        ),
        // 5 unknown function
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: \"${shout(data.name)}\" }",
            "route 'r1' message.text: unknown function 'shout'"
        ),
        // 6 recipient kind missing fields
        (
            "match: { type: a }\nto: [ { channel: { teamId: t } } ]\nmessage: { text: hi }",
            "routes.yaml:4:22: route 'r1' to[0].channel: missing channelId"
        ),
        // 7 bad duration
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\nexpiresAfter: 6 hours",
            "route 'r1' expiresAfter: \"6 hours\" is not a duration"
        ),
        // 7b unknown uncertain-delivery policy
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\nonUncertain: maybe",
            "route 'r1' onUncertain: must be fail or resend"
        ),
        // 8 unknown recipient kind
        (
            "match: { type: a }\nto: [ { email: { address: x } } ]\nmessage: { text: hi }",
            "route 'r1' to[0]: unknown recipient kind 'email'"
        ),
        // 9 unknown where operator
        (
            "match: { type: a, where: { \"data.p\": { like: x } } }\nto: [ { reference: x } ]\nmessage: { text: hi }",
            "route 'r1' match.where.data.p: unknown operator 'like'"
        ),
        // 10 path that can never resolve
        (
            "match: { type: a }\nto: [ { reference: \"${dta.team}\" } ]\nmessage: { text: hi }",
            "route 'r1' to[0].reference: path 'dta.team' can never resolve"
        ),
        // 11 card and text together
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi, card: templates/good.json }",
            "route 'r1' message: give either card or text, not both"
        ),
        // 12 invalid quiet hours
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\nquietHours: { from: \"8pm\", to: \"08:00\" }",
            "route 'r1' quietHours.from: \"8pm\" is not a time of day HH:MM"
        ),
        // 13 bad action
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\naction: archive",
            "route 'r1' action: must be send, update or delete"
        ),
        // 14 missing match
        (
            "to: [ { reference: x } ]\nmessage: { text: hi }",
            "route 'r1': match is required (or catchAll: true)"
        ),
        // 15 unknown time zone
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\nquietHours: { from: \"20:00\", to: \"08:00\", timeZone: Mars/Base }",
            "route 'r1' quietHours.timeZone: unknown time zone \"Mars/Base\""
        ),
    ])
    func routeMistakes(body: String, expected: String) throws {
        let problems = try problems(routes: route(body))
        #expect(problems.contains { $0.contains(expected) }, "got \(problems)")
    }

    static let cardRoute = "match: { type: a }\nto: [ { reference: x } ]\nmessage: { card: templates/good.json }\n"

    @Test(arguments: [
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: hi }\noptOut: true",
            "routes.yaml:6:13: route 'r1' optOut: optOut needs a card message (a text message has no buttons)"
        ),
        (cardRoute + "optOut: sometimes", "route 'r1' optOut: expected true or false"),
        (cardRoute + "actions: [ approve ]", "route 'r1' actions: expected a map of verb"),
        (
            cardRoute + "actions: { \"approve it\": { text: ok } }",
            "route 'r1' actions: 'approve it' is not a verb: 1 to 64 of letters, digits"
        ),
        (cardRoute + "actions: { \(String(repeating: "v", count: 65)): { text: ok } }", "is not a verb"),
        (
            cardRoute + "actions: { approve: { text: ok, card: templates/good.json } }",
            "route 'r1' actions.approve: give either card or text, not both"
        ),
        (cardRoute + "actions: { approve: {} }", "route 'r1' actions.approve: card or text is required"),
        (
            cardRoute + "actions: { approve: ok }",
            "route 'r1' actions.approve: expected { card: FILE } or { text: TEXT }"
        ),
        (
            cardRoute + "actions: { approve: { text: ok, colour: red } }",
            "route 'r1' actions.approve: unknown key 'colour' (allowed: card, text)"
        ),
        (
            cardRoute + "actions: { approve: { text: \"by ${actor.name} for ${data.id} on ${type}\" } }",
            "route 'r1' actions.approve.text: path 'type' can never resolve: paths start with action, actor, data"
        ),
        (
            cardRoute + "actions: { approve: { card: templates/missing.json } }",
            "route 'r1' actions.approve.card: cannot read the template file"
        ),
        (
            "match: { type: a }\nto: [ { reference: x } ]\nmessage: { text: \"hi ${actor.name}\" }",
            "route 'r1' message.text: path 'actor.name' can never resolve"
        ),
    ])
    func actionMistakes(body: String, expected: String) throws {
        let problems = try problems(routes: route(body))
        #expect(problems.contains { $0.contains(expected) }, "got \(problems)")
    }

    @Test func actionAnswersSeeThePressNotTheEvent() throws {
        let answer =
            #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${actor.name} ${action.time}"},"#
            + #"{"type":"TextBlock","text":"${data.ticket} ${actor.aadObjectId} ${action.verb} ${$root.data.x}"}]}"#
        let good = try problems(
            routes: route(
                Self.cardRoute + "optOut: true\nactions:\n  approve: { card: templates/answer.json }\n"
                    + "  herald.ack: { text: \"Thanks ${actor.name} (${actor.id}) at ${action.time}\" }\n"
                    + "  ticket_reopen-2: { card: templates/good.json }"),
            files: ["templates/answer.json": answer])
        #expect(good.isEmpty, "\(good)")
        // The same file as an event card: actor and action are no event's roots.
        let asEventCard = try problems(
            routes: route("match: { type: a }\nto: [ { reference: x } ]\nmessage: { card: templates/answer.json }"),
            files: ["templates/answer.json": answer])
        #expect(
            asEventCard.contains { $0.contains("templates/answer.json: $.body[0].text: path 'actor.name' can never") })
        let unknownRoot = try problems(
            routes: route(Self.cardRoute + "actions: { approve: { card: templates/answer.json } }"),
            files: ["templates/answer.json": answer.replacingOccurrences(of: "${action.time}", with: "${event.time}")])
        #expect(
            unknownRoot.contains {
                $0.contains(
                    "templates/answer.json: $.body[0].text: path 'event.time' can never resolve: paths start with action, actor, data"
                )
            }, "\(unknownRoot)")
    }

    @Test func templateMistakesNameTheTemplateFileAndJSONPath() throws {
        let cases: [(String, String)] = [
            (
                #"{"type":"AdaptiveCard","version":"1.6","body":[]}"#,
                "templates/card.json: $.version: version 1.6 is above 1.5"
            ),
            (
                #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${nope()}"}]}"#,
                "templates/card.json: $.body[0].text: unknown function 'nope'"
            ),
            (
                #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${data.x"}]}"#,
                "templates/card.json: $.body[0].text: '${' without a closing '}'"
            ),
            (
                "{\"type\":\"AdaptiveCard\",\n\"version\":\"1.5\",\n\"body\":[,]}",
                "templates/card.json: not valid JSON: line 3, column 9"
            ),
            (
                #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"${titel}"}]}"#,
                "templates/card.json: $.body[0].text: path 'titel' can never resolve"
            ),
        ]
        for (card, expected) in cases {
            let problems = try problems(
                routes: route("match: { type: a }\nto: [ { reference: x } ]\nmessage: { card: templates/card.json }"),
                files: ["templates/card.json": card])
            #expect(problems.contains { $0.contains(expected) }, "got \(problems)")
        }
    }

    @Test func buttonMistakesNameTheTemplateFileAndJSONPath() throws {
        let cases: [(String, String)] = [
            (
                #"{"type":"AdaptiveCard","version":"1.3","actions":[{"type":"Action.OpenUrl","url":"u"},"#
                    + #"{"type":"Action.Execute","verb":"v"}]}"#,
                "templates/card.json: $.actions[1]: Action.Execute needs card version 1.4 or higher"
            ),
            (
                #"{"type":"AdaptiveCard","version":"1.5","actions":[{"type":"Action.Submit","data":"x"}]}"#,
                "templates/card.json: $.actions[0].data: a button's data must be a JSON object"
            ),
            (
                #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"${data.kind}"}]}"#,
                "templates/card.json: $.body[0].type: an element's type cannot come from event data"
            ),
        ]
        for (card, expected) in cases {
            for message in [
                "message: { card: templates/card.json }",
                "message: { text: hi }\nactions: { v: { card: templates/card.json } }",
            ] {
                let problems = try problems(
                    routes: route("match: { type: a }\nto: [ { reference: x } ]\n" + message),
                    files: ["templates/card.json": card])
                #expect(problems.contains { $0.contains(expected) }, "got \(problems)")
            }
        }
    }

    @Test func duplicateNamesAndYAMLErrors() throws {
        let twice =
            "routes:\n  - name: a\n    match: { type: a }\n    to: [ { reference: x } ]\n    message: { text: hi }\n"
            + "  - name: a\n    match: { type: b }\n    to: [ { reference: x } ]\n    message: { text: hi }\n"
        #expect(
            try problems(routes: twice).contains {
                $0.contains("routes.yaml:6:11: route 'a': the route name is used twice")
            })
        let broken = try problems(routes: "routes:\n  - name: [unclosed\n")
        #expect(broken.count == 1)
        #expect(broken.first?.hasPrefix("routes.yaml:") == true)
        #expect(broken.first?.contains("YAML syntax") == true)
    }

    @Test func configurationMistakesAreReportedAlongsideRouteMistakes() throws {
        let config =
            Self.config.replacingOccurrences(of: "  appId: app", with: "  appId: app\n  colud: public")
            + "\n  events:\n    typeField: \"a..b\"\n"
        let problems = try problems(
            routes: route("match: { type: \"[\" }\nto: [ { reference: x } ]\nmessage: { text: hi }"), config: config)
        #expect(problems.contains { $0.contains("herald.yaml:6:3: bot.colud: unknown key") })
        #expect(problems.contains { $0.contains("routing.events.typeField: \"a..b\" is not a JSON path") })
        #expect(problems.contains { $0.contains("bad glob") })
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() throws {
        let problems = try problems(
            routes: route(
                "match: { type: \"[\" }\nto: [ { pager: x } ]\nmessage: { text: \"${nope()}\" }\nexpiresAfter: never"))
        #expect(problems.count == 4, "\(problems)")
    }
}
