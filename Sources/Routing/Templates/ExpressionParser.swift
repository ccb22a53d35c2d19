import HeraldJSON

/// Parses the text inside `${...}` into an ``Expression``.
struct ExpressionParser {
    /// Longest expression accepted. Default: 512 bytes.
    static let maxLength = 512

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    static func parse(_ text: String) throws(TemplateError) -> Expression {
        guard text.utf8.count <= maxLength else {
            throw TemplateError(.syntax, "expression longer than \(maxLength) bytes")
        }
        var parser = ExpressionParser(bytes: Array(text.utf8))
        let expression = try parser.parseOr()
        parser.skipSpaces()
        guard parser.position == parser.bytes.count else {
            throw TemplateError(.syntax, "unexpected '\(parser.rest)' in expression '\(text)'")
        }
        return expression
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var rest: String { String(decoding: bytes[position...].prefix(20), as: UTF8.self) }

    private mutating func skipSpaces() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpaces()
        let t = Array(token.utf8)
        guard position + t.count <= bytes.count, Array(bytes[position..<(position + t.count)]) == t else {
            return false
        }
        position += t.count
        return true
    }

    private mutating func parseOr() throws(TemplateError) -> Expression {
        var left = try parseAnd()
        while consume("||") { left = .binary(.or, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> Expression {
        var left = try parseComparison()
        while consume("&&") { left = .binary(.and, left, try parseComparison()) }
        return left
    }

    private mutating func parseComparison() throws(TemplateError) -> Expression {
        let left = try parseUnary()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where consume(op) {
            return .binary(Expression.BinaryOperator(rawValue: op)!, left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws(TemplateError) -> Expression {
        if consume("!") {
            guard !consume("=") else { throw TemplateError(.syntax, "unexpected '!='") }
            return .not(try parseUnary())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(TemplateError) -> Expression {
        skipSpaces()
        depth += 1
        defer { depth -= 1 }
        guard depth < 32 else { throw TemplateError(.syntax, "expression nested too deeply") }
        guard position < bytes.count else { throw TemplateError(.syntax, "expression ends early") }
        let b = bytes[position]
        if b == UInt8(ascii: "(") {
            position += 1
            let inner = try parseOr()
            guard consume(")") else { throw TemplateError(.syntax, "missing ')'") }
            return inner
        }
        if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
            position += 1
            guard let end = bytes[position...].firstIndex(of: b) else {
                throw TemplateError(.syntax, "unterminated string literal")
            }
            let s = String(decoding: bytes[position..<end], as: UTF8.self)
            position = end + 1
            return .literal(.string(s))
        }
        if (b >= 48 && b <= 57) || b == UInt8(ascii: "-") {
            let start = position
            position += 1
            while position < bytes.count, (bytes[position] >= 48 && bytes[position] <= 57) || bytes[position] == 46 {
                position += 1
            }
            guard let n = Double(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw TemplateError(.syntax, "invalid number")
            }
            return .literal(.number(n))
        }
        return try parsePathOrCall()
    }

    private mutating func parsePathOrCall() throws(TemplateError) -> Expression {
        let start = position
        while position < bytes.count {
            let c = bytes[position]
            if JSONPath.isIdentifierByte(c) && c != UInt8(ascii: "-") || c == UInt8(ascii: ".") {
                position += 1
            } else if c == UInt8(ascii: "-"), position > start, position + 1 < bytes.count,
                JSONPath.isIdentifierByte(bytes[position + 1]), bytes[position - 1] != 0x20
            {
                position += 1
            } else if c == UInt8(ascii: "[") {
                guard let close = bytes[position...].firstIndex(of: UInt8(ascii: "]")) else {
                    throw TemplateError(.syntax, "missing ']'")
                }
                position = close + 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard !text.isEmpty else { throw TemplateError(.syntax, "unexpected '\(rest)'") }
        if consume("(") {
            guard let function = Expression.Function(rawValue: text) else {
                throw TemplateError(.unknownFunction, "unknown function '\(text)'")
            }
            var args: [Expression] = []
            if !consume(")") {
                repeat { args.append(try parseOr()) } while consume(",")
                guard consume(")") else { throw TemplateError(.syntax, "missing ')' after arguments of \(text)") }
            }
            guard function.arity.contains(args.count) else {
                throw TemplateError(.syntax, "\(text) takes \(function.arity) arguments, not \(args.count)")
            }
            return .call(function, args)
        }
        switch text {
        case "true": return .literal(.bool(true))
        case "false": return .literal(.bool(false))
        case "null": return .literal(.null)
        case "$index": return .path(.index, nil)
        default: break
        }
        for (prefix, root) in [("$root", Expression.PathRoot.root), ("$data", .current)] where text.hasPrefix(prefix) {
            let rest = text.dropFirst(prefix.count)
            if rest.isEmpty { return .path(root, nil) }
            guard rest.first == ".", let path = JSONPath(parsing: String(rest.dropFirst())) else {
                throw TemplateError(.syntax, "invalid path '\(text)'")
            }
            return .path(root, path)
        }
        guard let path = JSONPath(parsing: text), text.first != "$" else {
            throw TemplateError(.syntax, "invalid path '\(text)'")
        }
        return .path(.implicit, path)
    }
}
