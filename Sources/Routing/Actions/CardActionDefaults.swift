import HeraldJSON

/// Herald's own answers to its verbs, for routes whose `actions` do not name one. Rendered in an
/// ``EvaluationScope/init(action:)`` scope with the pressed button's stamp, so their buttons point at the same
/// delivery.
public enum CardActionDefaults {
    /// The answer to ``CardVerb/optOut``: what happened and an Undo (``CardVerb/optIn``) for the same scope
    /// (`data.scope`: `all`, or the card's route when empty).
    public static let optOutConfirmation = compile(
        text: "You will no longer get these notifications.", button: "Undo", verb: CardVerb.optIn)

    /// The answer to ``CardVerb/optIn``: what happened and the way out again (``CardVerb/optOut``, same scope).
    public static let optInConfirmation = compile(
        text: "You will get these notifications again.", button: "Stop these notifications", verb: CardVerb.optOut)

    static func compile(text: String, button: String, verb: String) -> CardTemplate {
        let card: JSONValue = [
            "type": "AdaptiveCard", "version": "1.5",
            "body": [["type": "TextBlock", "text": .string(text), "wrap": true]],
            "actions": [
                [
                    "type": "Action.Execute", "title": .string(button), "verb": .string(verb),
                    "data": ["scope": "${data.scope}"],
                ]
            ],
        ]
        do {
            return try CardTemplate(value: card)
        } catch {
            fatalError("Herald's built-in card does not compile: \(error)")
        }
    }
}

extension CardTemplate {
    /// ``CardActionDefaults/optOutConfirmation``.
    public static var defaultOptOutConfirmation: CardTemplate { CardActionDefaults.optOutConfirmation }
    /// ``CardActionDefaults/optInConfirmation``.
    public static var defaultOptInConfirmation: CardTemplate { CardActionDefaults.optInConfirmation }
}
