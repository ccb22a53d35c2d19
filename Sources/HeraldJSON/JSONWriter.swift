/// Writes compact JSON straight into a byte buffer: a value with ``append(_:to:)``, or a document in one pass
/// without an intermediate model (Bot Connector request bodies) with an instance's ``raw(_:)-(StaticString)``,
/// ``string(_:)`` and ``field(_:_:)``.
///
/// Every string goes through ``appendString(_:to:)``, which escapes quotes, backslashes and control
/// characters, so text from an event can never close a string early and change a document's structure.
public struct JSONWriter: Sendable {
    /// What was written so far.
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    /// JSON text written as is: the document's fixed structure.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    /// Bytes that are already JSON (a rendered card), written as they are.
    public mutating func raw(_ json: [UInt8]) {
        self.bytes.append(contentsOf: json)
    }

    /// A string value, quoted and escaped.
    public mutating func string(_ value: String) {
        Self.appendString(value, to: &self.bytes)
    }

    /// `"key":`, the key written as is.
    public mutating func key(_ key: StaticString) {
        self.bytes.append(UInt8(ascii: "\""))
        self.raw(key)
        self.raw("\":")
    }

    /// `"key":` followed by a string value.
    public mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        self.string(value)
    }

    /// Appends `value` as compact JSON.
    public static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): appendNumber(n, to: &out)
        case .string(let s): appendString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The compact JSON text of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    /// Appends `string` as a quoted, escaped JSON string.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(string, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the escaped contents of `string` without the surrounding quotes.
    public static func appendEscaped(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { buffer in
            var runStart = 0
            for i in 0..<buffer.count {
                let b = buffer[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<i]))
                runStart = i + 1
                switch b {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<buffer.count]))
        }
    }

    /// How many bytes ``appendEscaped(_:to:)`` writes for `string`.
    public static func escapedCount(_ string: String) -> Int {
        var count = 0
        for b in string.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09: count += 2
            case 0..<0x20: count += 6
            default: count += 1
            }
        }
        return count
    }

    /// Appends a number: integers without a fraction (`3`, not `3.0`).
    public static func appendNumber(_ n: Double, to out: inout [UInt8]) {
        out.append(contentsOf: formatNumber(n).utf8)
    }

    /// A number as text: integral values without a fraction, others in Swift's shortest round-trip form.
    public static func formatNumber(_ n: Double) -> String {
        if n.isFinite, n == n.rounded(), abs(n) < 9_007_199_254_740_992 {
            return String(Int64(n))
        }
        return n.isFinite ? "\(n)" : "null"
    }
}
