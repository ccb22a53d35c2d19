/// An Adaptive Card template compiled into a tree once at start-up.
///
/// Static subtrees collapse into pre-encoded bytes; only string leaves hold bindings, so rendering can only
/// ever produce the template's own structure with escaped text in its strings.
///
/// Buttons (`Action.Execute`, `Action.Submit`) are found here too, by their literal `type`, wherever they sit:
/// rendering with a ``CardActionStamp`` writes Herald's `herald` block last into each one's `data` (see
/// ``render(in:limits:stamp:optOut:into:)``). A button's verb is `verb` on an `Action.Execute` and, by Herald's
/// convention, the string `data.verb` on an `Action.Submit`.
public struct CardTemplate: Sendable {
    indirect enum Node: Sendable {
        /// Compact JSON of a subtree with nothing to substitute: a range of ``CardTemplate/literals``.
        case literal(start: Int, end: Int)
        /// A string leaf with bindings. When it is exactly `${...}` and the value is a number or boolean, the
        /// value is written as that JSON type (so `"isVisible": "${flag}"` works); anything else is a string.
        case string(TextTemplate)
        case object(ObjectNode)
        case array([Node])
        /// The root card's `actions`: an array that ends with the opt-out button when one is asked for.
        case actions([Node])
    }

    struct ObjectNode: Sendable {
        /// `"key":` pre-encoded (a range of ``CardTemplate/literals``), and the value.
        var members: [(keyStart: Int, keyEnd: Int, value: Node)]
        /// `$data`: repeat (inside an array) or rebind the scope.
        var data: Expression?
        /// `$when`: drop the element when false.
        var when: Expression?
        /// What a stamped rendering writes after the members.
        var appendix: Appendix = .none
    }

    /// Members Herald adds at the end of an object when it renders with a stamp.
    enum Appendix: Sendable {
        case none
        /// A button's `data`: `"herald":{...}`.
        case herald
        /// A button without `data`: `"data":{"herald":{...}}`.
        case dataWithHerald
        /// The root card without `actions`: `"actions":[OPT-OUT]` when an opt-out button is asked for.
        case actionsWithOptOut
    }

    /// Where the opt-out button goes when the whole card compiled to one literal: before byte `offset` of it,
    /// between `prefix` and `suffix`.
    struct LiteralOptOut: Sendable {
        var offset: Int
        var prefix: String
        var suffix: String
    }

    let root: Node
    /// Every pre-encoded piece of the card, end to end; literal nodes and keys are ranges of it, so rendering
    /// copies bytes without touching reference counts.
    let literals: [UInt8]
    /// Set when ``root`` is a literal.
    let literalOptOut: LiteralOptOut?
    /// The card's `version`.
    public let version: String
    /// Version 1.4 or higher: buttons may be `Action.Execute` (Herald's opt-out button is one).
    public let supportsExecute: Bool
    /// Every expression with its JSON path and whether it sits inside `$data` (paths there are relative).
    public let expressions: [(location: String, expression: Expression, inRepetition: Bool)]
    /// The literal verbs of the card's buttons: `verb` of each `Action.Execute`, `data.verb` of each
    /// `Action.Submit` (whether the card has an Acknowledge button, ``CardVerb/ack``, for instance).
    public let verbs: Set<String>
    /// The card has an `Action.Execute` or `Action.Submit` somewhere: rendering with a stamp writes something.
    let hasButtons: Bool

    /// Highest Adaptive Card version Teams renders everywhere. Default: 1.5.
    public static let maxVersion = (1, 5)
    /// Lowest version with `Action.Execute` (Universal Actions).
    public static let executeVersion = (1, 4)
}
