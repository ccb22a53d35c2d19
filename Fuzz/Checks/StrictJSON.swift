/// An independent, deliberately plain RFC 8259 validator: the oracle for which texts are JSON. Foundation is
/// lenient where the RFC is not (it accepts trailing commas, for one), so it decides only what a text means.
/// Iterative, so a deeply nested input cannot exhaust the checker's own stack.
enum StrictJSON {
    /// Whether `bytes` are exactly one JSON text (RFC 8259), and how deeply it nests.
    static func validate(_ bytes: [UInt8]) -> (valid: Bool, depth: Int) {
        var reader = Reader(bytes: bytes)
        let valid = reader.document()
        return (valid, reader.deepest)
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var deepest = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            index += 1
            return true
        }

        mutating func document() -> Bool {
            // The open containers: true for an object, false for an array.
            var stack: [Bool] = []
            skipWhitespace()
            while true {
                // A value is expected here.
                skipWhitespace()
                switch current {
                case UInt8(ascii: "{"):
                    index += 1
                    stack.append(true)
                    deepest = max(deepest, stack.count)
                    skipWhitespace()
                    if consume(UInt8(ascii: "}")) {
                        stack.removeLast()
                    } else {
                        guard string() else { return false }
                        skipWhitespace()
                        guard consume(UInt8(ascii: ":")) else { return false }
                        continue
                    }
                case UInt8(ascii: "["):
                    index += 1
                    stack.append(false)
                    deepest = max(deepest, stack.count)
                    skipWhitespace()
                    if consume(UInt8(ascii: "]")) { stack.removeLast() } else { continue }
                case UInt8(ascii: "\""):
                    guard string() else { return false }
                case UInt8(ascii: "t"): guard literal("true") else { return false }
                case UInt8(ascii: "f"): guard literal("false") else { return false }
                case UInt8(ascii: "n"): guard literal("null") else { return false }
                default: guard number() else { return false }
                }
                // After a value: close containers, or go on to the next member or element.
                while true {
                    skipWhitespace()
                    guard let isObject = stack.last else {
                        return index == bytes.count
                    }
                    if consume(UInt8(ascii: ",")) {
                        if isObject {
                            skipWhitespace()
                            guard string() else { return false }
                            skipWhitespace()
                            guard consume(UInt8(ascii: ":")) else { return false }
                        }
                        break
                    }
                    guard consume(UInt8(ascii: isObject ? "}" : "]")) else { return false }
                    stack.removeLast()
                }
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let expected = Array(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
            guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
                return false
            }
            index += expected.count
            return true
        }

        mutating func digits() -> Int {
            let start = index
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }

        mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            if consume(UInt8(ascii: "0")) {
                // No leading zeros.
            } else {
                guard let byte = current, byte >= UInt8(ascii: "1"), byte <= UInt8(ascii: "9") else { return false }
                _ = digits()
            }
            if consume(UInt8(ascii: ".")) { guard digits() > 0 else { return false } }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() > 0 else { return false }
            }
            return true
        }

        /// A string, its escapes, and UTF-8 that is well formed (the RFC's text is UTF-8).
        mutating func string() -> Bool {
            guard consume(UInt8(ascii: "\"")) else { return false }
            while let byte = current {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return true
                case UInt8(ascii: "\\"):
                    guard let escape = current else { return false }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        // A surrogate only as a high-low pair: Herald refuses a lone one (RFC 8259 leaves it to the
                        // reader, and a Swift string cannot hold it).
                        guard let unit = hex4() else { return false }
                        if (0xDC00...0xDFFF).contains(unit) { return false }
                        if (0xD800...0xDBFF).contains(unit) {
                            guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hex4(),
                                (0xDC00...0xDFFF).contains(low)
                            else { return false }
                        }
                    default:
                        return false
                    }
                case 0..<0x20:
                    return false
                case 0x80...:
                    index -= 1
                    guard utf8Sequence() else { return false }
                default:
                    continue
                }
            }
            return false
        }

        /// Four hex digits as a UTF-16 code unit.
        mutating func hex4() -> UInt32? {
            var unit: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current, let digit = byte.hexValue else { return nil }
                unit = unit << 4 | digit
                index += 1
            }
            return unit
        }

        /// One well-formed multi-byte UTF-8 sequence (no overlongs, no surrogates, nothing past U+10FFFF).
        mutating func utf8Sequence() -> Bool {
            let lead = bytes[index]
            let count: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 1
            case 0xE0: (count, low) = (2, 0xA0)
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xED: (count, high) = (2, 0x9F)
            case 0xF0: (count, low) = (3, 0x90)
            case 0xF1...0xF3: count = 3
            case 0xF4: (count, high) = (3, 0x8F)
            default: return false
            }
            guard bytes.count - index > count else { return false }
            for offset in 1...count {
                let byte = bytes[index + offset]
                let range = offset == 1 ? low...high : 0x80...0xBF
                guard range.contains(byte) else { return false }
            }
            index += count + 1
            return true
        }
    }
}

extension UInt8 {
    fileprivate var hexValue: UInt32? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(self - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(self - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(self - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
