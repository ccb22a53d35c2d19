import Foundation
import HeraldJSON
import TestSupport
import Testing
import Yams

@testable import Routing

/// Every example (deploy/examples, README snippets) and every record the Swift types encode validates against
/// Schemas/, checked by an independent validator; and the schemas reject what they must.
@Suite struct SchemaTests {
    static func yamlAsJSON(_ text: String) throws -> [UInt8] {
        guard let node = try Yams.compose(yaml: text) else { return Array("null".utf8) }
        return JSONWriter.encode(YAMLValue.json(node))
    }

    static func file(_ path: String) throws -> String {
        try String(contentsOf: Fixtures.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func examplesValidate() async throws {
        var pairs: [(schema: String, document: [UInt8])] = [
            ("config.schema.json", try Self.yamlAsJSON(Self.file("deploy/examples/herald.yaml"))),
            ("routes.schema.json", try Self.yamlAsJSON(Self.file("deploy/examples/routes.yaml"))),
        ]
        let events = try FileManager.default.contentsOfDirectory(
            atPath: Fixtures.examples.appendingPathComponent("events").path
        ).sorted()
        #expect(events.count >= 4)
        for name in events {
            let bytes = Array(try Self.file("deploy/examples/events/\(name)").utf8)
            let schema =
                name.hasSuffix(".plain.json")
                ? "notification-event.schema.json#/$defs/plainEvent" : "notification-event.schema.json"
            pairs.append((schema, bytes))
        }
        let result = try await SchemaValidator.run(pairs)
        #expect(result.exitCode == 0, "\(result.output)")
        #expect(result.output.components(separatedBy: ": valid").count - 1 == pairs.count)
    }

    @Test func readmeSnippetsValidate() async throws {
        let readme = try Self.file("README.md")
        var pairs: [(schema: String, document: [UInt8])] = []
        let lines = readme.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            if lines[i].hasPrefix("<!-- schema: "), let end = lines[i].range(of: " -->") {
                let schema = String(lines[i][lines[i].index(lines[i].startIndex, offsetBy: 13)..<end.lowerBound])
                let fence = lines[i + 1]
                var j = i + 2
                var body: [String] = []
                while j < lines.count, !lines[j].hasPrefix("```") {
                    body.append(lines[j])
                    j += 1
                }
                let text = body.joined(separator: "\n")
                pairs.append((schema, fence.hasPrefix("```yaml") ? try Self.yamlAsJSON(text) : Array(text.utf8)))
                i = j
            }
            i += 1
        }
        #expect(pairs.count >= 4, "README marks its examples with <!-- schema: NAME -->")
        let result = try await SchemaValidator.run(pairs)
        #expect(result.exitCode == 0, "\(result.output)")
    }

    static func outcomes() -> [DeliveryOutcome] {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let input = InputPosition(topic: "notifications", partition: 3, offset: 1234)
        let event = Fixtures.event(data: Fixtures.ticketData)
        let record = InboundRecord(topic: "notifications", partition: 1, offset: 9, value: Array("x".utf8))
        return [
            DeliveryOutcome(
                deliveryId: "e|r|user:aad:t/a", eventId: "e", eventType: "t", eventSource: "/s", route: "r",
                recipient: .user(userId: nil, aadObjectId: "a", tenantId: "t"), status: .delivered, action: .send,
                conversationId: "a:1xyz", activityId: "1700000000000",
                serviceUrl: "https://smba.trafficmanager.net/emea/",
                attempts: 2, throttled: 1, eventTime: "2025-06-15T09:30:00Z", firstAttemptAt: now,
                completedAt: now.addingTimeInterval(0.812), latencyMs: 812, input: input, worker: "herald-7c9f/1"),
            DeliveryOutcome(
                deliveryId: "e|r|channel:t/c", eventId: "e", route: "r",
                recipient: .channel(teamId: "t", channelId: "19:c", tenantId: nil, threadId: "1"), status: .failed,
                attempts: 1,
                error: .init(code: "MessageWritesBlocked", httpStatus: 403, message: "blocked", retryable: false),
                completedAt: now, input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|reference:k", eventId: "e", recipient: .reference(key: "k"), status: .suppressed,
                error: .init(code: "OptedOut", message: "the recipient opted out", retryable: false), completedAt: now,
                input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|conversation:c", eventId: "e",
                recipient: .conversation(id: "c", serviceUrl: "https://x/", tenantId: "t"), status: .deferred,
                completedAt: now, input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|teamMembers:t", eventId: "e", recipient: .teamMembers(teamId: "t", tenantId: "x"),
                status: .expired, completedAt: now, input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|user:email:t/ada@contoso.com", eventId: "e",
                recipient: .person(.email("ada@contoso.com"), tenantId: "t"), status: .failed,
                error: .init(code: "RecipientNotFound", message: "nobody", retryable: false), completedAt: now,
                input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|user:upn:t/ada@contoso.com", eventId: "e",
                recipient: .person(.upn("ada@contoso.com"), tenantId: "t"), status: .failed,
                error: .init(code: "RecipientDisabled", message: "disabled", retryable: false), completedAt: now,
                input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|group:t/g", eventId: "e", recipient: .group(id: "g", tenantId: "t"), status: .failed,
                error: .init(code: "DirectoryConsentMissing", httpStatus: 403, message: "grant", retryable: false),
                completedAt: now, input: input, worker: "w"),
            DeliveryOutcome(
                deliveryId: "e|r|channel:19:t/name:incidents", eventId: "e",
                recipient: .namedChannel(teamId: "19:t", channelName: "Incidents", tenantId: "t"), status: .failed,
                error: .init(code: "ChannelNotFound", message: "no such channel", retryable: false), completedAt: now,
                input: input, worker: "w"),
            .rejected(record: record, error: EventDecodingError(.notJSON, "not JSON"), completedAt: now, worker: "w"),
            .unroutable(event: event, completedAt: now, worker: "w"),
            .rejected(
                DeliveryRejection(
                    eventId: "evt-1", route: "r", recipientIndex: 0, recipient: nil,
                    code: .missingRecipientField, message: "m"),
                event: event, completedAt: now, worker: "w"),
        ]
    }

    @Test func encodedOutcomesAndEventsValidate() async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var pairs: [(schema: String, document: [UInt8])] = try Self.outcomes().map {
            ("delivery-outcome.schema.json", [UInt8](try encoder.encode($0)))
        }
        var event = Fixtures.event(data: Fixtures.ticketData)
        event.herald = HeraldInstructions(
            deliverAt: Date(timeIntervalSince1970: 1_750_000_000),
            expiresAt: Date(timeIntervalSince1970: 1_750_100_000),
            notificationKey: "k", action: .update)
        event.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        pairs.append(("notification-event.schema.json", event.structuredJSONBytes))
        pairs.append(
            ("notification-event.schema.json", Fixtures.event(data: "just text", time: nil).structuredJSONBytes))
        let result = try await SchemaValidator.run(pairs)
        #expect(result.exitCode == 0, "\(result.output)")
    }

    @Test func outcomesRoundTripThroughCodable() throws {
        for outcome in Self.outcomes() {
            let decoded = try JSONDecoder().decode(DeliveryOutcome.self, from: try JSONEncoder().encode(outcome))
            #expect(decoded == outcome)
        }
    }

    /// Directory recipients: what the schema accepts the loader accepts, and what one refuses the other does.
    @Test func directoryRecipientsAgreeWithTheLoader() async throws {
        func route(_ recipient: String) -> String {
            "routes:\n  - name: r\n    match: { type: t }\n    to:\n      - \(recipient)\n    message: { text: hi }\n"
        }
        let cases: [(yaml: String, valid: Bool)] = [
            (route(#"user: { email: "${data.email}", tenantId: "${data.tenant}" }"#), true),
            (route(#"user: { upn: "${data.upn}", tenantId: t }"#), true),
            (route(#"user: { email: a@b.c }"#), false),
            (route(#"user: { email: a@b.c, upn: a@b.c, tenantId: t }"#), false),
            (route(#"user: { email: a@b.c, aadObjectId: x, tenantId: t }"#), false),
            (route(#"group: { id: "${data.group}", tenantId: t }"#), true),
            (route(#"group: { id: g }"#), false),
            (route(#"group: { id: g, tenantId: t, nested: false }"#), false),
            (route(#"channel: { teamId: "19:t", channelName: Incidents, tenantId: t }"#), true),
            (route(#"channel: { channelName: Incidents }"#), false),
            (route(#"channel: { teamId: "19:t", channelName: Incidents, channelId: "19:c" }"#), false),
            (route(#"channel: { teamId: "19:t", channelName: Incidents, threadId: "1" }"#), false),
            (route(#"channel: { teamId: "19:t" }"#), false),
            (route(#"channel: { channelId: "19:c" }"#), true),
        ]
        for (yaml, valid) in cases {
            let (_, problems) = RouteSet.parse(yaml: yaml, file: "routes.yaml") { ($0, nil) }
            #expect(problems.isEmpty == valid, "loader: \(yaml) \(problems)")
            let result = try await SchemaValidator.run([("routes.schema.json", try Self.yamlAsJSON(yaml))])
            #expect(result.exitCode == (valid ? 0 : 1), "schema: \(yaml) \(result.output)")
        }
    }

    /// `optOut` and `actions`: what the schema accepts the loader accepts, and what one refuses the other does.
    @Test func buttonKeysAgreeWithTheLoader() async throws {
        let head = "routes:\n  - name: r\n    match: { type: t }\n    to: [ { reference: x } ]\n"
        let card = "    message: { card: c.json }\n"
        let cases: [(yaml: String, valid: Bool)] = [
            (
                head + card + "    optOut: true\n    actions:\n      approve: { card: a.json }\n"
                    + "      herald.ack: { text: \"Thanks ${actor.name}\" }\n      v_2-x.y: { text: ok }\n",
                true
            ),
            (head + card + "    optOut: false\n    actions: {}\n", true),
            (head + "    message: { text: hi }\n    optOut: false\n", true),
            (head + "    message: { text: hi }\n    optOut: true\n", false),
            (head + card + "    optOut: \"yes\"\n", false),
            (head + card + "    actions: { \"bad verb\": { text: ok } }\n", false),
            (head + card + "    actions: { \(String(repeating: "v", count: 65)): { text: ok } }\n", false),
            (head + card + "    actions: { approve: { text: ok, card: a.json } }\n", false),
            (head + card + "    actions: { approve: {} }\n", false),
            (head + card + "    actions: { approve: { text: ok, colour: red } }\n", false),
            (head + card + "    actions: { approve: ok }\n", false),
        ]
        let template = #"{"type":"AdaptiveCard","version":"1.5","body":[]}"#
        for (yaml, valid) in cases {
            let (_, problems) = RouteSet.parse(yaml: yaml, file: "routes.yaml") { ($0, Array(template.utf8)) }
            #expect(problems.isEmpty == valid, "loader: \(yaml) \(problems)")
            let result = try await SchemaValidator.run([("routes.schema.json", try Self.yamlAsJSON(yaml))])
            #expect(result.exitCode == (valid ? 0 : 1), "schema: \(yaml) \(result.output)")
        }
    }

    @Test func schemasRejectWhatTheyMust() async throws {
        let bad: [(schema: String, document: String)] = [
            ("notification-event.schema.json", #"{"specversion":"1.0","type":"t","source":"/s"}"#),
            (
                "notification-event.schema.json",
                #"{"specversion":"1.0","id":"1","type":"t","source":"/s","action":"explode"}"#
            ),
            (
                "notification-event.schema.json",
                #"{"specversion":"1.0","id":"1","type":"t","source":"/s","data":{"herald":{"deliverAt":"soon"}}}"#
            ),
            (
                "delivery-outcome.schema.json",
                #"{"deliveryId":"d","eventId":"e","status":"lost","attempts":0,"throttled":0,"completedAt":"2025-01-01T00:00:00Z","input":{"topic":"t","partition":0,"offset":0},"worker":"w"}"#
            ),
            (
                "delivery-outcome.schema.json",
                #"{"deliveryId":"d","eventId":"e","status":"failed","attempts":0,"throttled":0,"completedAt":"2025-01-01T00:00:00Z","input":{"topic":"t","partition":0,"offset":0},"worker":"w"}"#
            ),
            (
                "routes.schema.json",
                #"{"routes":[{"name":"r","match":{"type":"t"},"to":[{"pager":"x"}],"message":{"text":"t"}}]}"#
            ),
            ("routes.schema.json", #"{"routes":[{"name":"r","to":[{"reference":"x"}],"message":{"text":"t"}}]}"#),
            (
                "config.schema.json",
                #"{"kafka":{"brokers":"embedded","eventsTopics":["n"]},"bot":{"appId":"a"},"store":{"url":"mysql://x"},"routing":{"routesFile":"r"}}"#
            ),
        ]
        for (schema, document) in bad {
            let result = try await SchemaValidator.run([(schema, Array(document.utf8))])
            #expect(result.exitCode == 1, "\(schema) accepted \(document)")
        }
    }
}
