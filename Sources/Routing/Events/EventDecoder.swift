import Foundation
import HeraldJSON

/// Turns Kafka records into ``NotificationEvent``s: CloudEvents 1.0 structured JSON mode, CloudEvents Kafka
/// binary mode (`ce_*` headers) and plain JSON objects.
///
/// The mode is chosen per record: a `ce_specversion` header means binary mode; a JSON object with a
/// `specversion` member means structured mode; any other JSON object is a plain event.
public struct EventDecoder: Sendable {
    public var options: EventDecodingOptions

    public init(options: EventDecodingOptions = EventDecodingOptions()) {
        self.options = options
    }

    /// Decodes one record, or throws the reason it cannot be routed.
    public func decode(_ record: InboundRecord) throws(EventDecodingError) -> NotificationEvent {
        guard record.value.count <= options.maxEventBytes else {
            throw EventDecodingError(
                .tooLarge, "the record is \(record.value.count) bytes, over the limit of \(options.maxEventBytes)")
        }
        let position = InputPosition(topic: record.topic, partition: record.partition, offset: record.offset)
        var event: NotificationEvent
        if let specversion = record.header("ce_specversion") {
            event = try decodeBinary(record, specversion: specversion, position: position)
        } else {
            let value: JSONValue
            do {
                value = try JSONParser.parse(record.value, maxDepth: options.maxDepth)
            } catch {
                throw EventDecodingError(.notJSON, "the value is not JSON (\(error))")
            }
            guard case .object = value else {
                throw EventDecodingError(.notAnObject, "the value is JSON but not an object")
            }
            if value["specversion"] != nil {
                event = try decodeStructured(value, position: position)
            } else {
                event = try decodePlain(value, record: record, position: position)
            }
        }
        if event.traceparent == nil { event.traceparent = try header(record, "traceparent") }
        return event
    }

    // MARK: Modes

    func decodeStructured(_ value: JSONValue, position: InputPosition) throws(EventDecodingError) -> NotificationEvent {
        guard value["specversion"] == .string("1.0") else {
            throw EventDecodingError(.unsupportedSpecVersion, "specversion must be \"1.0\"")
        }
        guard let id = try attribute(value["id"], "id") else { throw EventDecodingError(.missingId, "no id") }
        guard let type = try attribute(value["type"], "type") else {
            throw EventDecodingError(.missingType, "no type")
        }
        guard let source = try attribute(value["source"], "source") else {
            throw EventDecodingError(.missingSource, "no source")
        }
        if value["data_base64"] != nil {
            throw EventDecodingError(.unsupportedContentType, "data_base64 is not supported; send JSON data")
        }
        let data = value["data"] ?? .null
        var event = NotificationEvent(
            id: id, type: type, source: source, subject: try attribute(value["subject"], "subject"),
            time: try timeAttribute(value["time"], "time"), data: data, input: position)
        event.herald = try instructions(
            data: data,
            extensions: { (name: String) throws(EventDecodingError) -> String? in try attribute(value[name], name) })
        event.traceparent = try attribute(value["traceparent"], "traceparent")
        return event
    }

    func decodeBinary(
        _ record: InboundRecord, specversion: [UInt8], position: InputPosition
    )
        throws(EventDecodingError) -> NotificationEvent
    {
        guard specversion.elementsEqual("1.0".utf8) else {
            throw EventDecodingError(.unsupportedSpecVersion, "ce_specversion must be \"1.0\"")
        }
        func header(_ name: String) throws(EventDecodingError) -> String? { try self.header(record, name) }
        guard let id = try header("ce_id") else { throw EventDecodingError(.missingId, "no ce_id header") }
        guard let type = try header("ce_type") else { throw EventDecodingError(.missingType, "no ce_type header") }
        guard let source = try header("ce_source") else {
            throw EventDecodingError(.missingSource, "no ce_source header")
        }
        var contentType = try header("content-type")
        if contentType == nil { contentType = try header("ce_datacontenttype") }
        let data: JSONValue
        if record.value.isEmpty {
            data = .null
        } else if contentType == nil || contentType!.lowercased().contains("json") {
            do {
                data = try JSONParser.parse(record.value, maxDepth: options.maxDepth)
            } catch {
                throw EventDecodingError(.notJSON, "the value (data) is not JSON (\(error))")
            }
        } else if contentType!.lowercased().hasPrefix("text/") {
            guard let text = String(validating: record.value, as: UTF8.self) else {
                throw EventDecodingError(.notJSON, "the text data is not UTF-8")
            }
            data = .string(text)
        } else {
            throw EventDecodingError(
                .unsupportedContentType, "content type \(Self.excerpt(contentType!)) is not JSON or text")
        }
        let time = try header("ce_time")
        if let time, RFC3339.parse(time) == nil {
            throw EventDecodingError(.invalidAttribute, "ce_time is not an RFC 3339 date-time")
        }
        var event = NotificationEvent(
            id: id, type: type, source: source, subject: try header("ce_subject"), time: time, data: data,
            input: position)
        for (name, value) in [("id", id), ("type", type), ("source", source)] {
            try checkLength(value, name)
        }
        event.herald = try instructions(
            data: data, extensions: { (name: String) throws(EventDecodingError) -> String? in try header("ce_" + name) }
        )
        event.traceparent = try header("ce_traceparent")
        return event
    }

    func decodePlain(
        _ value: JSONValue, record: InboundRecord, position: InputPosition
    )
        throws(EventDecodingError) -> NotificationEvent
    {
        var type: String?
        if !options.plainTypeHeader.isEmpty, let bytes = record.header(options.plainTypeHeader) {
            type = try headerString(bytes, name: options.plainTypeHeader)
        }
        if type == nil || type!.isEmpty, let path = options.plainTypeField {
            type = try attribute(path.resolve(in: value), path.description)
        }
        guard let type, !type.isEmpty else {
            throw EventDecodingError(.missingType, "no type: the event has no \(options.plainTypeDescription)")
        }
        try checkLength(type, "type")
        var id = record.coordinates
        if let path = options.plainIdField, let found = path.resolve(in: value) {
            switch found {
            case .string(let s) where !s.isEmpty: id = s
            case .number(let n): id = JSONWriter.formatNumber(n)
            default: throw EventDecodingError(.invalidAttribute, "\(path) must be a non-empty string or a number")
            }
            try checkLength(id, path.description)
        }
        var source = "/kafka/" + record.topic
        if let path = options.plainSourceField, let found = try attribute(path.resolve(in: value), path.description) {
            source = found
        }
        var time = record.timestamp.map(RFC3339.format)
        if let path = options.plainTimeField, let found = try timeAttribute(path.resolve(in: value), path.description) {
            time = found
        }
        var event = NotificationEvent(id: id, type: type, source: source, time: time, data: value, input: position)
        event.herald = try instructions(data: value, extensions: { (_: String) throws(EventDecodingError) in nil })
        return event
    }

    // MARK: Attributes

    func attribute(_ value: JSONValue?, _ name: String) throws(EventDecodingError) -> String? {
        guard let value, value != .null else { return nil }
        guard case .string(let s) = value else {
            throw EventDecodingError(.invalidAttribute, "\(name) must be a string")
        }
        try checkLength(s, name)
        return s.isEmpty ? nil : s
    }

    func timeAttribute(_ value: JSONValue?, _ name: String) throws(EventDecodingError) -> String? {
        guard let s = try attribute(value, name) else { return nil }
        guard RFC3339.parse(s) != nil else {
            throw EventDecodingError(.invalidAttribute, "\(name) is not an RFC 3339 date-time")
        }
        return s
    }

    func checkLength(_ s: String, _ name: String) throws(EventDecodingError) {
        guard s.utf8.count <= options.maxAttributeBytes else {
            throw EventDecodingError(.invalidAttribute, "\(name) is longer than \(options.maxAttributeBytes) bytes")
        }
    }

    /// A header's text, nil when it is absent or empty: an empty header says nothing, as an empty attribute does
    /// (kept, it would republish as an attribute that reads back as absent).
    func header(_ record: InboundRecord, _ name: String) throws(EventDecodingError) -> String? {
        guard let bytes = record.header(name) else { return nil }
        let s = try headerString(bytes, name: name)
        return s.isEmpty ? nil : s
    }

    func headerString(_ bytes: [UInt8], name: String) throws(EventDecodingError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw EventDecodingError(.invalidAttribute, "header \(name) is not UTF-8")
        }
        try checkLength(s, name)
        return s
    }

    static func excerpt(_ s: String) -> String {
        let cut = s.prefix(40).unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "?" }.joined()
        return "\"" + cut + (s.count > 40 ? "..." : "") + "\""
    }
}
