import HeraldJSON
import Routing

/// Event records: any bytes, structured or binary mode. A record that decodes re-encodes (as Herald republishes
/// events) to bytes that decode to the same event and re-encode to the same bytes.
///
/// Input layout: a first byte of 1 means binary mode, its headers as `name:value` lines up to a blank line, then
/// the value; anything else is the whole record value, with no headers.
enum EventCheck {
    static let decoder = EventDecoder()

    static func record(_ bytes: [UInt8]) -> InboundRecord {
        guard bytes.first == 1 else { return InboundRecord(topic: "fuzz", partition: 0, offset: 7, value: bytes) }
        let (headers, rest) = headerLines(bytes.dropFirst())
        return InboundRecord(topic: "fuzz", partition: 0, offset: 7, value: Array(rest), headers: headers)
    }

    static func check(_ bytes: [UInt8]) throws(PropertyViolation) {
        let first: NotificationEvent
        do throws(EventDecodingError) {
            first = try decoder.decode(record(bytes))
        } catch {
            guard !error.message.isEmpty else { throw PropertyViolation(.event, "a refusal without a reason") }
            return
        }
        let encoded = first.structuredJSONBytes
        let second: NotificationEvent
        do throws(EventDecodingError) {
            second = try decoder.decode(InboundRecord(topic: "fuzz", partition: 0, offset: 7, value: encoded))
        } catch {
            throw PropertyViolation(.event, "the re-encoding of \(excerpt(bytes)) is refused: \(error)")
        }
        guard
            second.id == first.id, second.type == first.type, second.source == first.source,
            second.subject == first.subject, second.time == first.time, second.data == first.data,
            second.herald == first.herald, second.traceparent == first.traceparent
        else {
            throw PropertyViolation(.event, "the re-encoding of \(excerpt(bytes)) decodes to another event")
        }
        guard second.structuredJSONBytes == encoded else {
            throw PropertyViolation(.event, "re-encoding \(excerpt(bytes)) is not stable")
        }
    }
}
