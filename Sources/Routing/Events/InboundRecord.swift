import Foundation

/// A Kafka record as plain values: what event decoding reads.
public struct InboundRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    /// Headers in record order; names are compared case-sensitively, as Kafka does.
    public var headers: [(name: String, value: [UInt8])]
    public var timestamp: Date?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]? = nil, value: [UInt8],
        headers: [(name: String, value: [UInt8])] = [], timestamp: Date? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// `topic/partition/offset`: the id of an event that carries none, and of a record that cannot be decoded.
    public var coordinates: String { "\(topic)/\(partition)/\(offset)" }

    /// The value of the first header named `name`.
    public func header(_ name: String) -> [UInt8]? {
        for header in headers where header.name == name { return header.value }
        return nil
    }
}
