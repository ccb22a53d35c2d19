/// A strict, fast JSON parser (RFC 8259) into ``JSONValue``.
///
/// Hand-written because events are parsed on the hot path: it reads bytes in place, copies a string
/// once (twice only when it has escapes) and bounds nesting depth, so a hostile record cannot exhaust
/// the stack.
public struct JSONParser {
    /// Default: 64 levels of nesting.
    public static let defaultMaxDepth = 64

    /// Parses `bytes` as one JSON text.
    public static func parse(
        _ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth
    ) throws(JSONParseError)
        -> JSONValue
    {
        let result =
            bytes.withContiguousStorageIfAvailable { buffer in
                Result { () throws(JSONParseError) in
                    try parse(buffer: UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
                }
            }
            ?? Array(bytes).withUnsafeBytes { buffer in
                Result { () throws(JSONParseError) in try parse(buffer: buffer, maxDepth: maxDepth) }
            }
        return try result.get()
    }

    /// Parses the UTF-8 of `text` as one JSON text.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSONParseError) in
                try parse(buffer: UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
            }
        }.get()
    }

    static func parse(buffer: UnsafeRawBufferPointer, maxDepth: Int) throws(JSONParseError) -> JSONValue {
        var reader = Reader(bytes: buffer, maxDepth: maxDepth)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        guard reader.position == buffer.count else {
            throw reader.error("unexpected content after the JSON value")
        }
        return value
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let maxDepth: Int
        var position = 0
        /// Members and elements of the containers being parsed, so each container's array is allocated once
        /// at its final size instead of growing.
        var memberStack: [JSONMember] = []
        var elementStack: [JSONValue] = []

        init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func error(_ message: String) -> JSONParseError {
            JSONParseError(message: message, offset: position, bytes: bytes)
        }

        @inline(__always) mutating func skipWhitespace() {
            while position < bytes.count {
                let b = bytes[position]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                position += 1
            }
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
            guard position < bytes.count else { throw error("unexpected end of input") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectWord("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected character")
            }
        }

        mutating func expectWord(_ word: String) throws(JSONParseError) {
            let count = word.utf8.count
            guard position + count <= bytes.count else { throw error("unexpected end of input") }
            var i = position
            for b in word.utf8 {
                guard bytes[i] == b else { throw error("invalid literal") }
                i += 1
            }
            position += count
        }

        mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            position += 1
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object([])
            }
            let base = memberStack.count
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw error("expected a member name in double quotes")
                }
                let key = try parseString()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                memberStack.append(JSONMember(key, value))
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of input in an object") }
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "}") {
                    let members = Array(memberStack[base...])
                    memberStack.removeSubrange(base...)
                    return .object(members)
                }
                guard b == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or '}'") }
            }
        }

        mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            position += 1
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array([])
            }
            let base = elementStack.count
            while true {
                skipWhitespace()
                let element = try parseValue(depth: depth)
                elementStack.append(element)
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of input in an array") }
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "]") {
                    let elements = Array(elementStack[base...])
                    elementStack.removeSubrange(base...)
                    return .array(elements)
                }
                guard b == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or ']'") }
            }
        }

        mutating func parseNumber() throws(JSONParseError) -> Double {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else {
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            var isInteger = true
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                isInteger = false
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
                {
                    position += 1
                }
                guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            let length = position - start
            if isInteger, length <= 15 {
                var value: Int64 = 0
                var i = start
                let negative = bytes[i] == UInt8(ascii: "-")
                if negative { i += 1 }
                while i < position {
                    value = value &* 10 &+ Int64(bytes[i] &- 48)
                    i += 1
                }
                return Double(negative ? -value : value)
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text), value.isFinite else { throw error("number out of range") }
            return value
        }

        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    }
}
