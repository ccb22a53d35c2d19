import Foundation
import HeraldJSON

/// A decoded event: the CloudEvents attributes Herald uses, its data and Herald's own instructions.
public struct NotificationEvent: Sendable {
    /// The idempotency key: the same id is never delivered twice to the same recipient.
    public var id: String
    public var type: String
    public var source: String
    public var subject: String?
    /// The event's `time` attribute exactly as sent (RFC 3339).
    public var time: String?
    public var data: JSONValue
    public var herald: HeraldInstructions
    /// W3C trace context, from the `traceparent` header or CloudEvents extension.
    public var traceparent: String?
    /// Where the record came from.
    public var input: InputPosition

    public init(
        id: String, type: String, source: String, subject: String? = nil, time: String? = nil, data: JSONValue = .null,
        herald: HeraldInstructions = HeraldInstructions(), traceparent: String? = nil,
        input: InputPosition = InputPosition(topic: "", partition: 0, offset: 0)
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.subject = subject
        self.time = time
        self.data = data
        self.herald = herald
        self.traceparent = traceparent
        self.input = input
    }

    /// The root templates and paths see: `id`, `type`, `source`, `subject`, `time` and `data`.
    public func bindingValue(forRoot name: String) -> JSONValue? {
        switch name {
        case "data": data
        case "id": .string(id)
        case "type": .string(type)
        case "source": .string(source)
        case "subject": subject.map(JSONValue.string)
        case "time": time.map(JSONValue.string)
        default: nil
        }
    }

    /// Names a path may start with at the top level of a template or route.
    public static let rootNames: Set<String> = ["data", "id", "type", "source", "subject", "time"]
}

/// Herald's per-event instructions, from CloudEvents extension attributes or `data.herald`.
public struct HeraldInstructions: Sendable, Hashable {
    public var deliverAt: Date?
    public var expiresAt: Date?
    public var notificationKey: String?
    /// Default: none (the route's action, else `send`).
    public var action: DeliveryAction?

    public init(
        deliverAt: Date? = nil, expiresAt: Date? = nil, notificationKey: String? = nil, action: DeliveryAction? = nil
    ) {
        self.deliverAt = deliverAt
        self.expiresAt = expiresAt
        self.notificationKey = notificationKey
        self.action = action
    }
}

/// What a delivery does to the recipient's conversation.
public enum DeliveryAction: String, Sendable, Hashable, Codable, CaseIterable {
    case send, update, delete
}

/// A record's place in Kafka.
public struct InputPosition: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// `topic/partition/offset` (Kafka topic names have no `/`).
    public var coordinates: String { "\(topic)/\(partition)/\(offset)" }

    /// Parses ``coordinates``.
    public init?(coordinates: String) {
        let parts = coordinates.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let partition = Int32(parts[1]), let offset = Int64(parts[2])
        else { return nil }
        self.init(topic: String(parts[0]), partition: partition, offset: offset)
    }
}
