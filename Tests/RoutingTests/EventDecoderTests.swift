import Foundation
import HeraldJSON
import Testing

@testable import Routing

@Suite struct EventDecoderTests {
    let decoder = EventDecoder()

    @Test func structuredModeReadsAttributesDataAndExtensions() throws {
        let event = try decoder.decode(
            Fixtures.record(
                """
                {"specversion":"1.0","id":"e-1","type":"t.a","source":"/s","subject":"sub","time":"2025-06-15T09:30:00Z",
                 "deliverat":"2025-06-15T10:00:00+02:00","notificationkey":"k-ext","action":"update",
                 "traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                 "data":{"x":1,"herald":{"notificationKey":"k-data","expiresAt":"2025-06-16T00:00:00Z"}}}
                """))
        #expect(event.id == "e-1")
        #expect(event.type == "t.a")
        #expect(event.source == "/s")
        #expect(event.subject == "sub")
        #expect(event.time == "2025-06-15T09:30:00Z")
        #expect(event.data["x"] == 1)
        #expect(event.herald.deliverAt == Date(timeIntervalSince1970: 1_749_974_400))
        #expect(event.herald.notificationKey == "k-ext", "extension attributes win over data.herald")
        #expect(event.herald.expiresAt == Date(timeIntervalSince1970: 1_750_032_000))
        #expect(event.herald.action == .update)
        #expect(event.traceparent?.hasPrefix("00-0af7") == true)
        #expect(event.input == InputPosition(topic: "notifications", partition: 2, offset: 7))
    }

    @Test func binaryModeReadsHeadersAndTheValueAsData() throws {
        let event = try decoder.decode(
            Fixtures.record(
                #"{"ticket":"HD-1"}"#,
                headers: [
                    ("ce_specversion", "1.0"), ("ce_id", "b-1"), ("ce_type", "t.b"), ("ce_source", "/bin"),
                    ("ce_time", "2025-01-01T00:00:00Z"), ("content-type", "application/json"),
                    ("ce_notificationkey", "nk"), ("ce_action", "delete"), ("traceparent", "00-abc"),
                ]))
        #expect(event.id == "b-1")
        #expect(event.type == "t.b")
        #expect(event.source == "/bin")
        #expect(event.data == ["ticket": "HD-1"])
        #expect(event.herald.notificationKey == "nk")
        #expect(event.herald.action == .delete)
        #expect(event.traceparent == "00-abc")
    }

    @Test func binaryModeAcceptsTextData() throws {
        let event = try decoder.decode(
            Fixtures.record(
                "plain words",
                headers: [
                    ("ce_specversion", "1.0"), ("ce_id", "b"), ("ce_type", "t"), ("ce_source", "/s"),
                    ("content-type", "text/plain"),
                ]))
        #expect(event.data == "plain words")
    }

    @Test func plainJSONDefaultsIdToTopicPartitionOffset() throws {
        let event = try decoder.decode(Fixtures.record(#"{"type":"monitoring.alert","service":"db"}"#, offset: 99))
        #expect(event.id == "notifications/2/99")
        #expect(event.type == "monitoring.alert")
        #expect(event.source == "/kafka/notifications")
        #expect(event.data["service"] == "db")
    }

    @Test func plainJSONUsesConfiguredFieldsAndHeader() throws {
        var options = EventDecodingOptions()
        options.plainTypeHeader = "event-type"
        options.plainIdField = JSONPath(parsing: "meta.id")
        options.plainSourceField = JSONPath(parsing: "meta.origin")
        let decoder = EventDecoder(options: options)
        let event = try decoder.decode(
            Fixtures.record(
                #"{"meta":{"id":12345,"origin":"/billing"},"herald":{"deliverAt":"2030-01-01T00:00:00Z"}}"#,
                headers: [("event-type", "invoice.due")]))
        #expect(event.type == "invoice.due")
        #expect(event.id == "12345")
        #expect(event.source == "/billing")
        #expect(event.herald.deliverAt == RFC3339.parse("2030-01-01T00:00:00Z"))
    }

    @Test(arguments: [
        ("not json at all", EventDecodingError.Code.notJSON),
        (#"["an","array"]"#, .notAnObject),
        (#"{"specversion":"0.3","id":"1","type":"t","source":"/s"}"#, .unsupportedSpecVersion),
        (#"{"specversion":"1.0","type":"t","source":"/s"}"#, .missingId),
        (#"{"specversion":"1.0","id":"1","source":"/s"}"#, .missingType),
        (#"{"specversion":"1.0","id":"1","type":"t"}"#, .missingSource),
        (#"{"specversion":"1.0","id":7,"type":"t","source":"/s"}"#, .invalidAttribute),
        (#"{"specversion":"1.0","id":"1","type":"t","source":"/s","time":"yesterday"}"#, .invalidAttribute),
        (#"{"specversion":"1.0","id":"1","type":"t","source":"/s","action":"explode"}"#, .invalidAttribute),
        (#"{"specversion":"1.0","id":"1","type":"t","source":"/s","data":{"herald":"x"}}"#, .invalidAttribute),
        (#"{"specversion":"1.0","id":"1","type":"t","source":"/s","data_base64":"AA=="}"#, .unsupportedContentType),
        (#"{"no":"type"}"#, .missingType),
    ])
    func everyFailureHasATypedReason(json: String, code: EventDecodingError.Code) {
        let error = #expect(throws: EventDecodingError.self) { try decoder.decode(Fixtures.record(json)) }
        #expect(error?.code == code, "\(error?.description ?? "no error")")
        #expect(error?.isRetryable == false)
    }

    @Test func binaryModeFailures() {
        let cases: [([(String, String)], String, EventDecodingError.Code)] = [
            ([("ce_specversion", "2.0")], "{}", .unsupportedSpecVersion),
            ([("ce_specversion", "1.0"), ("ce_type", "t"), ("ce_source", "/s")], "{}", .missingId),
            ([("ce_specversion", "1.0"), ("ce_id", "1"), ("ce_type", "t"), ("ce_source", "/s")], "{oops", .notJSON),
            (
                [
                    ("ce_specversion", "1.0"), ("ce_id", "1"), ("ce_type", "t"), ("ce_source", "/s"),
                    ("content-type", "application/octet-stream"),
                ], "xx", .unsupportedContentType
            ),
        ]
        for (headers, value, code) in cases {
            let error = #expect(throws: EventDecodingError.self) {
                try decoder.decode(Fixtures.record(value, headers: headers))
            }
            #expect(error?.code == code)
        }
    }

    @Test func oversizedRecordsAreRejectedBeforeParsing() {
        var options = EventDecodingOptions()
        options.maxEventBytes = 1024
        let big = #"{"type":"t","x":""# + String(repeating: "a", count: 2000) + #""}"#
        let error = #expect(throws: EventDecodingError.self) {
            try EventDecoder(options: options).decode(Fixtures.record(big))
        }
        #expect(error?.code == .tooLarge)
    }

    @Test func overlongAttributesAreRejected() {
        let id = String(repeating: "i", count: 5000)
        let error = #expect(throws: EventDecodingError.self) {
            try decoder.decode(Fixtures.record(#"{"specversion":"1.0","id":"\#(id)","type":"t","source":"/s"}"#))
        }
        #expect(error?.code == .invalidAttribute)
        #expect((error?.message.count ?? 0) < 200, "the message does not echo the hostile value")
    }

    @Test func structuredEncodingRoundTrips() throws {
        var event = Fixtures.event(data: Fixtures.ticketData)
        event.herald = HeraldInstructions(
            deliverAt: Date(timeIntervalSince1970: 1_750_000_000), notificationKey: "ticket-1", action: .update)
        let decoded = try decoder.decode(
            InboundRecord(topic: "notifications", partition: 0, offset: 1, value: event.structuredJSONBytes))
        #expect(decoded.id == event.id)
        #expect(decoded.data == event.data)
        #expect(decoded.herald == event.herald)
    }

    /// Found by the event fuzzer: an empty `traceparent` header was kept as an empty trace context, which the
    /// republished (structured) event then read back as none.
    @Test(arguments: [true, false])
    func anEmptyTraceparentHeaderIsNoTraceContextAndRoundTrips(binary: Bool) throws {
        let headers: [(String, String)] =
            binary
            ? [("ce_specversion", "1.0"), ("ce_id", "e-1"), ("ce_type", "t"), ("ce_source", "/s"), ("traceparent", "")]
            : [("traceparent", "")]
        let value = binary ? #"{"x":1}"# : #"{"specversion":"1.0","id":"e-1","type":"t","source":"/s","data":{"x":1}}"#
        let event = try decoder.decode(Fixtures.record(value, headers: headers))
        #expect(event.traceparent == nil)
        let again = try decoder.decode(
            InboundRecord(topic: "notifications", partition: 0, offset: 1, value: event.structuredJSONBytes))
        #expect(again.traceparent == event.traceparent)
        #expect(again.data == event.data)
        #expect(again.structuredJSONBytes == event.structuredJSONBytes)
    }

    @Test func rfc3339ParsesOffsetsAndFormatsUTC() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(RFC3339.parse("2024-02-29T12:00:00.5-01:30") == Date(timeIntervalSince1970: 1_709_213_400.5))
        #expect(RFC3339.parse("2023-02-29T12:00:00Z") == nil)
        #expect(RFC3339.parse("2025-06-15 09:30") == nil)
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_709_213_400.5)) == "2024-02-29T13:30:00.500Z")
    }
}
