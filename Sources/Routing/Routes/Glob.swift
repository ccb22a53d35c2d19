/// A shell-style pattern for event types and sources: `*` any run of characters, `?` one character,
/// `[abc]`, `[a-z]`, `[!x]` one of / not one of. A pattern with none of these matches exactly.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case byte(UInt8)
        case any
        case star
        case set([ClosedRange<UInt8>], negated: Bool)
    }

    let tokens: [Token]
    let exact: String?
    public let description: String

    /// Compiles `pattern`; throws on an empty pattern or an unterminated `[`.
    public init(_ pattern: String) throws(GlobError) {
        guard !pattern.isEmpty else { throw GlobError(message: "empty pattern") }
        description = pattern
        let b = Array(pattern.utf8)
        var tokens: [Token] = []
        var i = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "*"):
                if tokens.last != .star { tokens.append(.star) }
            case UInt8(ascii: "?"):
                tokens.append(.any)
            case UInt8(ascii: "["):
                var j = i + 1
                let negated = j < b.count && b[j] == UInt8(ascii: "!")
                if negated { j += 1 }
                var ranges: [ClosedRange<UInt8>] = []
                while j < b.count, b[j] != UInt8(ascii: "]") || ranges.isEmpty && j == i + 1 + (negated ? 1 : 0) {
                    if j + 2 < b.count, b[j + 1] == UInt8(ascii: "-"), b[j + 2] != UInt8(ascii: "]") {
                        guard b[j] <= b[j + 2] else {
                            throw GlobError(message: "reversed range in [...] of \"\(pattern)\"")
                        }
                        ranges.append(b[j]...b[j + 2])
                        j += 3
                    } else {
                        ranges.append(b[j]...b[j])
                        j += 1
                    }
                }
                guard j < b.count else { throw GlobError(message: "unterminated '[' in \"\(pattern)\"") }
                tokens.append(.set(ranges, negated: negated))
                i = j
            case UInt8(ascii: "]"):
                throw GlobError(message: "']' without '[' in \"\(pattern)\"")
            case let c:
                tokens.append(.byte(c))
            }
            i += 1
        }
        self.tokens = tokens
        self.exact = tokens.allSatisfy { if case .byte = $0 { true } else { false } } ? pattern : nil
    }

    /// True when `text` matches the whole pattern.
    public func matches(_ text: String) -> Bool {
        if let exact { return text == exact }
        var text = text
        return text.withUTF8 { matches(bytes: $0) }
    }

    func matches(bytes s: UnsafeBufferPointer<UInt8>) -> Bool {
        var t = 0
        var i = 0
        var starToken = -1
        var starText = 0
        while i < s.count {
            if t < tokens.count {
                switch tokens[t] {
                case .star:
                    starToken = t
                    starText = i
                    t += 1
                    continue
                case .any:
                    t += 1
                    i += 1
                    continue
                case .byte(let c) where c == s[i]:
                    t += 1
                    i += 1
                    continue
                case .set(let ranges, let negated) where ranges.contains { $0.contains(s[i]) } != negated:
                    t += 1
                    i += 1
                    continue
                default: break
                }
            }
            guard starToken >= 0 else { return false }
            t = starToken + 1
            starText += 1
            i = starText
        }
        while t < tokens.count, tokens[t] == .star { t += 1 }
        return t == tokens.count
    }
}

/// A pattern that cannot be compiled.
public struct GlobError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { "bad glob: \(message)" }
}
