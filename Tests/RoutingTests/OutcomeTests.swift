import Foundation
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
