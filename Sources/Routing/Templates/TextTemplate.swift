/// A string with `${expression}` bindings, compiled once: `"Ticket ${data.id} was assigned to you"`.
public struct TextTemplate: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case expression(Expression)
    }

    public let parts: [Part]
    /// The template as written.
    public let source: String

    /// Compiles `source`; throws on `${` without `}`, bad syntax or an unknown function.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(source)
        while let open = rest.range(of: "${") {
            literal += rest[rest.startIndex..<open.lowerBound]
            guard let close = Self.closingBrace(in: rest[open.upperBound...]) else {
                throw TemplateError(.syntax, "'${' without a closing '}' in \"\(Self.excerpt(source))\"")
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            parts.append(.expression(try ExpressionParser.parse(String(rest[open.upperBound..<close]))))
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// A template that is plain text, for code paths that build one without parsing.
    public init(literal: String) {
        self.source = literal
        self.parts = literal.isEmpty ? [] : [.literal(literal)]
    }

    /// True when there is nothing to substitute.
    public var isLiteral: Bool { !parts.contains { if case .expression = $0 { true } else { false } } }

    /// The single expression, when the template is exactly `${...}`.
    public var soleExpression: Expression? {
        if parts.count == 1, case .expression(let e) = parts[0] { return e }
        return nil
    }

    static func closingBrace(in s: Substring) -> String.Index? {
        var quote: Character?
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "}" {
                return i
            }
            i = s.index(after: i)
        }
        return nil
    }

    static func excerpt(_ s: String) -> String { s.count > 60 ? s.prefix(60) + "..." : s }
}
