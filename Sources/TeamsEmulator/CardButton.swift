/// A button of an Adaptive Card that talks to the bot: an `Action.Execute` (Teams posts an `adaptiveCard/action`
/// invoke) or an `Action.Submit` (Teams posts a `message` with the data as `value`).
struct CardButton: Sendable, Hashable {
    enum Kind: String, Sendable {
        case execute = "Action.Execute"
        case submit = "Action.Submit"
    }

    static let adaptiveCardType = "application/vnd.microsoft.card.adaptive"

    var kind: Kind
    var id: String?
    /// `verb` of an Action.Execute, `data.verb` of an Action.Submit.
    var verb: String?
    var title: String?
    var data: JSONValue?

    /// The members of a card, an element or an action that can hold buttons, in the order a reader meets them:
    /// an element's own `selectAction` before what it contains, a card's `body` before its `actions`, the card of
    /// an `Action.ShowCard`. `refresh` (run by Teams, not pressed) and `fallback` (shown only to clients that
    /// lack an element) are not among them.
    private static let holders = [
        "selectAction", "inlineAction", "body", "items", "columns", "rows", "cells", "actions", "card",
    ]

    /// Every Action.Execute and Action.Submit in `card`, wherever it sits: root `actions`, ActionSets at any depth
    /// of `body` (containers, columns, table cells), `selectAction`s, inline actions of inputs, the cards of
    /// Action.ShowCard.
    static func all(in card: JSONValue) -> [CardButton] {
        var buttons: [CardButton] = []
        self.collect(card, into: &buttons)
        return buttons
    }

    private static func collect(_ value: JSONValue, into buttons: inout [CardButton]) {
        switch value {
        case .array(let items):
            for item in items { self.collect(item, into: &buttons) }
        case .object(let members):
            if let type = members["type"]?.string, let kind = Kind(rawValue: type) {
                let data = members["data"]
                buttons.append(
                    CardButton(
                        kind: kind,
                        id: members["id"]?.string,
                        verb: kind == .execute ? members["verb"]?.string : data?["verb"]?.string,
                        title: members["title"]?.string,
                        data: data
                    ))
                return
            }
            for key in self.holders {
                if let child = members[key] { self.collect(child, into: &buttons) }
            }
        default:
            break
        }
    }

    /// Whether the button has the verb and the title asked for (either may be left out, not both).
    func matches(verb: String?, title: String?) -> Bool {
        (verb == nil || self.verb == verb) && (title == nil || self.title == title)
    }

    /// `Action.Execute verb "approve" titled "Approve"`, for messages naming the buttons there are.
    var summary: String {
        var out = self.kind.rawValue
        if let verb = self.verb { out += " verb \(JSONText.quote(verb))" }
        if let title = self.title { out += " titled \(JSONText.quote(title))" }
        return out
    }

    /// The data the bot gets: the button's, with `override`'s members put over its top-level ones. A button whose
    /// data is not an object keeps it when there is nothing to put over it; `{}` for a button without data.
    func data(mergedWith override: [String: JSONValue]?) -> JSONValue {
        guard let override else { return self.data ?? .object([:]) }
        var merged = self.data?.object ?? [:]
        merged.merge(override) { _, new in new }
        return .object(merged)
    }
}
