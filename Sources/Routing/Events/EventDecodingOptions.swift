import HeraldJSON

/// How records are decoded; from the `routing.events` configuration section.
public struct EventDecodingOptions: Sendable {
    /// Largest record value accepted. Default: 1 MiB.
    public var maxEventBytes = 1_048_576
    /// Longest id, type, source, subject or other attribute. Default: 1024 bytes.
    public var maxAttributeBytes = 1024
    /// Deepest JSON nesting. Default: 64.
    public var maxDepth = 64
    /// Plain JSON events: the field holding the type. Default: `type`.
    public var plainTypeField: JSONPath? = JSONPath(parsing: "type")
    /// Plain JSON events: a header holding the type, consulted before the field. Default: none.
    public var plainTypeHeader = ""
    /// Plain JSON events: the field holding the id. Default: none (`topic/partition/offset`).
    public var plainIdField: JSONPath?
    /// Plain JSON events: the field holding the source. Default: none (`/kafka/<topic>`).
    public var plainSourceField: JSONPath?
    /// Plain JSON events: the field holding the time. Default: none (the record's timestamp).
    public var plainTimeField: JSONPath?

    public init() {}

    var plainTypeDescription: String {
        switch (plainTypeField, plainTypeHeader.isEmpty) {
        case (let f?, true): "\"\(f)\" field"
        case (let f?, false): "\"\(f)\" field or \"\(plainTypeHeader)\" header"
        case (nil, _): "\"\(plainTypeHeader)\" header"
        }
    }
}
