import Foundation
import HeraldJSON
import TestSupport
import Testing

@testable import Routing

@Suite struct OutcomeTests {
    @Test func outcomeFromAPlannedDeliveryCarriesEventAndPlan() async throws {
        let router = try Fixtures.routes(
            """
            routes:
              - name: r
                match: { type: "com.example.*" }
                to: [ { user: { userId: "29:1abc", tenantId: "t" } } ]
                message: { text: "hi" }
            """)
        var event = Fixtures.event(data: [:])
        event.input = InputPosition(topic: "notifications", partition: 4, offset: 77)
        let delivery = try #require(router.route(event, now: Date()).deliveries.first)
        let outcome = DeliveryOutcome(
            delivery: delivery, event: event, status: .delivered, completedAt: Date(timeIntervalSince1970: 0),
            worker: "w/1")
        let json = try JSONParser.parse(try outcome.jsonBytes())
        #expect(json["deliveryId"] == "evt-1|r|user:id:t/29:1abc")
        #expect(json["recipient"] == ["kind": "user", "tenantId": "t", "userId": "29:1abc"])
        #expect(json["input"] == ["offset": 77, "partition": 4, "topic": "notifications"])
        #expect(json["completedAt"] == "1970-01-01T00:00:00.000Z")
        #expect(json["eventType"] == "com.example.helpdesk.ticket.assigned")
        #expect(json["error"] == nil)
        let result = try await SchemaValidator.run([("delivery-outcome.schema.json", try outcome.jsonBytes())])
        #expect(result.exitCode == 0, "\(result.output)")
    }

    /// The hand-written encoding is byte for byte what `JSONEncoder` (sorted keys) makes of the Codable form,
    /// for every recipient kind, with and without errors, and for hostile strings.
    @Test func outcomeRecordsAreTheCodableFormByteForByte() throws {
        let hostile = "a \"quoted\" \\ back/slash\n\r\t\u{01}\u{1F} é 🎉 </script>"
        let recipients: [Recipient?] = [
            nil, .user(userId: "29:1", aadObjectId: hostile, tenantId: "t"),
            .user(userId: nil, aadObjectId: "a", tenantId: nil),
            .conversation(id: "a:1", serviceUrl: "https://smba/", tenantId: hostile),
            .conversation(id: "c", serviceUrl: nil, tenantId: nil),
            .reference(key: hostile), .channel(teamId: "19:t", channelId: "19:c", tenantId: "t", threadId: "1"),
            .channel(teamId: nil, channelId: "19:c", tenantId: nil, threadId: nil),
            .teamMembers(teamId: "19:t", tenantId: "t"),
            .person(.email(hostile), tenantId: "t"), .person(.upn("ada@contoso.com"), tenantId: nil),
            .group(id: "g-1", tenantId: "t"), .namedChannel(teamId: "19:t", channelName: hostile, tenantId: "t"),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (index, recipient) in recipients.enumerated() {
            var outcome = DeliveryOutcome(
                deliveryId: "d|\(hostile)", eventId: "e", eventType: index % 2 == 0 ? "t" : nil,
                eventSource: index % 3 == 0 ? hostile : nil, route: "r", recipient: recipient,
                status: DeliveryOutcome.Status.allCases[index % DeliveryOutcome.Status.allCases.count],
                action: index % 2 == 0 ? .update : nil, conversationId: "a:\(index)",
                activityId: index % 2 == 0 ? "17" : nil,
                serviceUrl: "https://smba.trafficmanager.net/teams/", attempts: index, throttled: index / 2,
                error: index % 2 == 1
                    ? .init(
                        code: "Code\(index)", httpStatus: index % 3 == 0 ? nil : 403, message: hostile,
                        retryable: index % 4 == 1)
                    : nil,
                eventTime: "2025-01-01T00:00:00Z",
                firstAttemptAt: index % 2 == 0 ? Date(timeIntervalSince1970: 1) : nil,
                completedAt: Date(timeIntervalSince1970: 2), latencyMs: index % 3 == 0 ? nil : 812,
                input: InputPosition(topic: "n", partition: Int32(index), offset: Int64(index) * 1_000_000_007),
                worker: "w/\(index)")
            outcome.installedApp = index % 3 == 2 ? true : nil
            let written = try outcome.jsonBytes()
            let encoded = [UInt8](try encoder.encode(outcome))
            let parsedWritten = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
            let parsedEncoded = try JSONSerialization.jsonObject(with: Data(encoded)) as? NSDictionary
            #expect(parsedWritten == parsedEncoded, "outcome \(index): same JSON")
            // JSONEncoder writes a few control characters differently (\b, \f); the rest is byte for byte.
            #expect(
                String(decoding: written, as: UTF8.self) == String(decoding: encoded, as: UTF8.self),
                "outcome \(index): same bytes")
        }
    }

    @Test func undecodableRecordsGetARejectedOutcomeAndDeadLetterHeaders() throws {
        let record = InboundRecord(
            topic: "notifications", partition: 1, offset: 9, value: Array("{oops".utf8), headers: [("x", [1])])
        let error = #expect(throws: EventDecodingError.self) { try EventDecoder().decode(record) }
        let decodingError = try #require(error)
        let outcome = DeliveryOutcome.rejected(record: record, error: decodingError, completedAt: Date(), worker: "w")
        #expect(outcome.eventId == "notifications/1/9")
        #expect(outcome.status == .rejected)
        #expect(outcome.error?.code == "NotJSON")
        let headers = decodingError.deadLetterHeaders(for: record)
        #expect(
            headers.map(\.name) == [
                "x", "herald-error-code", "herald-error-message", "herald-source-topic", "herald-source-partition",
                "herald-source-offset",
            ])
        #expect(headers[1].value == Array("NotJSON".utf8))
        #expect(headers[5].value == Array("9".utf8))
    }
}
