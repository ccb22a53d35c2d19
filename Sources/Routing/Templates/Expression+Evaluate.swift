import HeraldJSON

extension Expression {
    /// The expression's value, or nil when a path is missing.
    public func evaluate(in scope: EvaluationScope) -> JSONValue? {
        switch self {
        case .literal(let value):
            return value
        case .path(let root, let path):
            switch root {
            case .index:
                return scope.index.map { .number(Double($0)) }
            case .root:
                guard let path else { return nil }
                return scope.resolveFromEvent(path)
            case .current:
                guard let item = scope.item else { return nil }
                guard let path else { return item }
                return path.resolve(in: item)
            case .implicit:
                guard let path else { return nil }
                if let item = scope.item, let found = path.resolve(in: item) { return found }
                return scope.resolveFromEvent(path)
            }
        case .not(let inner):
            return .bool(!(inner.evaluate(in: scope)?.isTruthy ?? false))
        case .binary(let op, let l, let r):
            switch op {
            case .and:
                return .bool((l.evaluate(in: scope)?.isTruthy ?? false) && (r.evaluate(in: scope)?.isTruthy ?? false))
            case .or:
                return .bool((l.evaluate(in: scope)?.isTruthy ?? false) || (r.evaluate(in: scope)?.isTruthy ?? false))
            default:
                return .bool(Self.compare(op, l.evaluate(in: scope), r.evaluate(in: scope)))
            }
        case .call(let function, let args):
            return Self.call(function, args, scope)
        }
    }

    static func compare(_ op: BinaryOperator, _ l: JSONValue?, _ r: JSONValue?) -> Bool {
        switch op {
        case .equal: return (l ?? .null) == (r ?? .null)
        case .notEqual: return (l ?? .null) != (r ?? .null)
        default: break
        }
        let order: Int
        switch (l, r) {
        case (.number(let a)?, .number(let b)?): order = a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a)?, .string(let b)?): order = a < b ? -1 : (a > b ? 1 : 0)
        default: return false
        }
        switch op {
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        default: return false
        }
    }

    static func call(_ function: Function, _ args: [Expression], _ scope: EvaluationScope) -> JSONValue? {
        switch function {
        case .if:
            return (args[0].evaluate(in: scope)?.isTruthy ?? false)
                ? args[1].evaluate(in: scope) : args[2].evaluate(in: scope)
        case .toUpper:
            return args[0].evaluate(in: scope).map { .string($0.text.uppercased()) }
        case .toLower:
            return args[0].evaluate(in: scope).map { .string($0.text.lowercased()) }
        case .count:
            switch args[0].evaluate(in: scope) {
            case .array(let a)?: return .number(Double(a.count))
            case .string(let s)?: return .number(Double(s.count))
            case .object(let o)?: return .number(Double(o.count))
            default: return .number(0)
            }
        case .join:
            guard case .array(let a)? = args[0].evaluate(in: scope) else { return nil }
            let separator = args[1].evaluate(in: scope)?.text ?? ""
            return .string(a.map(\.text).joined(separator: separator))
        case .coalesce:
            for arg in args {
                if let v = arg.evaluate(in: scope), v != .null, v != .string("") { return v }
            }
            return nil
        case .concat:
            return .string(args.map { $0.evaluate(in: scope)?.text ?? "" }.joined())
        }
    }
}

extension JSONValue {
    /// The value as template text: strings as they are, numbers without a needless fraction, null as empty,
    /// arrays and objects as compact JSON (inside a string, so they cannot change a card's structure).
    public var text: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .number(let n): JSONWriter.formatNumber(n)
        case .string(let s): s
        case .array, .object: String(decoding: JSONWriter.encode(self), as: UTF8.self)
        }
    }
}
