/// One JSON object written member by member (absent values left out), every string escaped by ``JSONWriter``:
/// outcome records and JSON log lines.
public struct JSONObjectWriter {
    private var out: [UInt8]
    private var empty = true

    public init(capacity: Int = 128) {
        out = []
        out.reserveCapacity(capacity)
        out.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ key: StaticString) {
        if !empty { out.append(UInt8(ascii: ",")) }
        empty = false
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// A member whose key is not known in advance (escaped like any string).
    public mutating func value(_ key: String, _ value: JSONValue) {
        if !empty { out.append(UInt8(ascii: ",")) }
        empty = false
        JSONWriter.appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONWriter.append(value, to: &out)
    }

    public mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        JSONWriter.appendString(value, to: &out)
    }

    public mutating func int(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        self.key(key)
        out.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func object(_ key: StaticString, _ body: (inout JSONObjectWriter) -> Void) {
        self.key(key)
        var inner = JSONObjectWriter()
        body(&inner)
        out.append(contentsOf: inner.finish())
    }

    public consuming func finish() -> [UInt8] {
        out.append(UInt8(ascii: "}"))
        return out
    }
}
