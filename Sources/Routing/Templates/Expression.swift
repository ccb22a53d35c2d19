import HeraldJSON

/// A compiled template expression: the inside of `${...}`.
///
/// Paths (`data.ticket.id`, `$root.data.title`, `$index`), literals (`'text'`, `3`, `true`, `null`),
/// `== != < <= > >= && || !`, parentheses and a few functions (see ``Function``).
public indirect enum Expression: Sendable, Hashable {
    case literal(JSONValue)
    case path(PathRoot, JSONPath?)
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case call(Function, [Expression])

    /// Where a path starts.
    public enum PathRoot: Sendable, Hashable {
        /// The event (`data...`, `id`, `type`...), or inside `$data` repetition the current item first.
        case implicit
        /// `$root`: always the event.
        case root
        /// `$data`: the current item.
        case current
        /// `$index`: the current item's position.
        case index
    }

    public enum BinaryOperator: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case and = "&&", or = "||"
    }

    /// The functions expressions may call.
    public enum Function: String, Sendable, Hashable, CaseIterable {
        /// `if(condition, then, else)`
        case `if`
        /// `toUpper(text)`, `toLower(text)`
        case toUpper, toLower
        /// `count(array or string)`
        case count
        /// `join(array, separator)`
        case join
        /// `coalesce(a, b, ...)`: the first value that is present and not null or empty.
        case coalesce
        /// `concat(a, b, ...)`: the values' texts end to end.
        case concat

        var arity: ClosedRange<Int> {
            switch self {
            case .if: 3...3
            case .toUpper, .toLower, .count: 1...1
            case .join: 2...2
            case .coalesce, .concat: 1...16
            }
        }
    }

    /// Every path the expression reads, with its root, for static checks.
    public var paths: [(PathRoot, JSONPath?)] {
        switch self {
        case .literal: []
        case .path(let root, let path): [(root, path)]
        case .not(let e): e.paths
        case .binary(_, let l, let r): l.paths + r.paths
        case .call(_, let args): args.flatMap(\.paths)
        }
    }
}
