/// A route's answer to one verb of its cards' buttons (`actions.<verb>`): a card that replaces the pressed one,
/// or a short text message. Rendered in an ``EvaluationScope/init(action:)`` scope.
public enum ActionAnswer: Sendable {
    case card(CardTemplate)
    case text(TextTemplate)
}
