import HeraldJSON

/// A `where` condition on a JSON path of the event: `"data.priority": { in: [high, urgent] }`.
public struct Predicate: Sendable, Hashable {
    public enum Operator: Sendable, Hashable {
        case equals(JSONValue)
        case notEquals(JSONValue)
        case `in`([JSONValue])
        case notIn([JSONValue])
        case exists(Bool)
        case greaterThan(JSONValue)
        case greaterOrEqual(JSONValue)
        case lessThan(JSONValue)
        case lessOrEqual(JSONValue)
        case matches(Glob)

        /// The operator names `where` accepts.
        public static let names = ["equals", "notEquals", "in", "notIn", "exists", "gt", "gte", "lt", "lte", "matches"]
    }

    public var path: JSONPath
    public var op: Operator

    public init(path: JSONPath, op: Operator) {
        self.path = path
        self.op = op
    }

    /// True when the event satisfies the condition. Comparisons are numeric for numbers, lexicographic for
    /// strings, and false across types or on a missing value.
    public func isSatisfied(by scope: EvaluationScope) -> Bool {
        let value = scope.resolveFromEvent(path)
        switch op {
        case .exists(let expected): return (value != nil && value != .null) == expected
        case .equals(let v): return value == v
        case .notEquals(let v): return value != v
        case .in(let options): return value.map { options.contains($0) } ?? false
        case .notIn(let options): return !(value.map { options.contains($0) } ?? false)
        case .greaterThan(let v): return Expression.compare(.greater, value, v)
        case .greaterOrEqual(let v): return Expression.compare(.greaterOrEqual, value, v)
        case .lessThan(let v): return Expression.compare(.less, value, v)
        case .lessOrEqual(let v): return Expression.compare(.lessOrEqual, value, v)
        case .matches(let glob): return value?.stringValue.map(glob.matches) ?? false
        }
    }
}
