/// An Adaptive Card template compiled into a tree once at start-up.
///
/// Static subtrees collapse into pre-encoded bytes; only string leaves hold bindings, so rendering can only
/// ever produce the template's own structure with escaped text in its strings.
public struct CardTemplate: Sendable {
    indirect enum Node: Sendable {
        /// Compact JSON of a subtree with nothing to substitute: a range of ``CardTemplate/literals``.
        case literal(start: Int, end: Int)
        /// A string leaf with bindings. When it is exactly `${...}` and the value is a number or boolean, the
        /// value is written as that JSON type (so `"isVisible": "${flag}"` works); anything else is a string.
        case string(TextTemplate)
        case object(ObjectNode)
        case array([Node])
    }

    struct ObjectNode: Sendable {
        /// `"key":` pre-encoded (a range of ``CardTemplate/literals``), and the value.
        var members: [(keyStart: Int, keyEnd: Int, value: Node)]
        /// `$data`: repeat (inside an array) or rebind the scope.
        var data: Expression?
        /// `$when`: drop the element when false.
        var when: Expression?
    }

    let root: Node
    /// Every pre-encoded piece of the card, end to end; literal nodes and keys are ranges of it, so rendering
    /// copies bytes without touching reference counts.
    let literals: [UInt8]
    /// The card's `version`.
    public let version: String
    /// Every expression with its JSON path and whether it sits inside `$data` (paths there are relative).
    public let expressions: [(location: String, expression: Expression, inRepetition: Bool)]

    /// Highest Adaptive Card version Teams renders everywhere. Default: 1.5.
    public static let maxVersion = (1, 5)
}
