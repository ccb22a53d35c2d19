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

        mutating func parseString() throws(JSONParseError) -> String {
            position += 1
            let start = position
            var high: UInt8 = 0
            while position < bytes.count {
                let b = bytes[position]
                high |= b
                if b == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    if high < 0x80 {
                        return String(decoding: raw, as: UTF8.self)
                    }
                    guard let s = String(validating: raw, as: UTF8.self) else {
                        position = start
                        throw error("invalid UTF-8 in a string")
                    }
                    return s
                }
                if b == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
                guard b >= 0x20 else { throw error("control character in a string") }
                position += 1
            }
            throw error("unterminated string")
        }

        mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
            var out: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let b = bytes[position]
                position += 1
                switch b {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: out, as: UTF8.self) else {
                        throw error("invalid UTF-8 in a string")
                    }
                    return s
                case UInt8(ascii: "\\"):
                    guard position < bytes.count else { throw error("unterminated string") }
                    let e = bytes[position]
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"): try appendUnicodeEscape(to: &out)
                    default: throw error("invalid escape in a string")
                    }
                case 0..<0x20:
                    throw error("control character in a string")
                default:
                    out.append(b)
                }
            }
            throw error("unterminated string")
        }

        mutating func readHex4() throws(JSONParseError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let d: UInt8
                switch c {
                case 48...57: d = c - 48
                case 65...70: d = c - 55
                case 97...102: d = c - 87
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
                position += 1
            }
            return v
        }

        mutating func appendUnicodeEscape(to out: inout [UInt8]) throws(JSONParseError) {
            var scalar = try readHex4()
            if scalar >= 0xD800, scalar < 0xDC00 {
                guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("unpaired surrogate in \\u escape") }
                position += 2
                let low = try readHex4()
                guard low >= 0xDC00, low < 0xE000 else { throw error("unpaired surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00, scalar < 0xE000 {
                throw error("unpaired surrogate in \\u escape")
            }
            guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
            out.append(contentsOf: UTF8.encode(u)!)
        }
    }
}

/// Why a JSON text could not be parsed, with the place (1-based line and column) where it went wrong.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var line: Int
    public var column: Int

    init(message: String, offset: Int, bytes: UnsafeRawBufferPointer) {
        self.message = message
        self.offset = offset
        var line = 1
        var column = 1
        for b in bytes.prefix(offset) {
            if b == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}
