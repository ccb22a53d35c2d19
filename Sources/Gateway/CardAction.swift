import HeraldJSON
import Routing

/// A button pressed on a card: an `Action.Execute` (an `invoke` named `adaptiveCard/action`) or an
/// `Action.Submit` (a `message` whose `value` is the button's data). Read from the activity only; who pressed it
/// is the activity's sender, never anything in the data.
struct CardAction: Sendable {
    enum Kind: Sendable {
        /// `invoke`: the HTTP response is the answer.
        case execute
        /// `message` with `value`: the answer updates the card (`replyToId`) through the Bot Connector.
        case submit
    }

    /// Which delivery the card came from: the `herald` block Herald's renderer writes into every button's data.
    struct Origin: Sendable, Hashable {
        var route: String
        var deliveryId: String
        var notificationKey: String?
        var eventId: String
    }

    var kind: Kind
    var verb: String
    /// The button's data without the `herald` block.
    var data: JSONValue
    var origin: Origin?
    /// The card's activity id (Action.Submit; an invoke names it too).
    var replyToId: String?

    /// Longest verb accepted; longer ones are read as no verb.
    static let maxVerbBytes = 64
    /// Longest value of an origin field accepted.
    static let maxOriginFieldBytes = 2048

    /// The action of an `invoke` (`value.action`) or of a `message` with an object `value`; nil for anything else.
    init?(type: String?, name: String?, value: JSONValue?, replyToId: String?) {
        guard let value, case .object = value else { return nil }
        let data: JSONValue
        let verb: String?
        switch type {
        case "invoke":
            guard name == "adaptiveCard/action", let action = value["action"] else { return nil }
            kind = .execute
            verb = action["verb"]?.stringValue
            data = action["data"] ?? .object([])
        case "message":
            kind = .submit
            data = value
            verb = value["verb"]?.stringValue
        default:
            return nil
        }
        self.verb = verb.flatMap { $0.isEmpty || $0.utf8.count > Self.maxVerbBytes ? nil : $0 } ?? ""
        self.origin = Self.origin(data["herald"])
        self.data = Self.removingHerald(data)
        self.replyToId = replyToId.flatMap { $0.isEmpty || $0.utf8.count > Self.maxOriginFieldBytes ? nil : $0 }
    }

    /// `scope: all` in the data: every route, not only the card's.
    var scopeIsAll: Bool { data["scope"]?.stringValue == "all" }

    static func origin(_ block: JSONValue?) -> Origin? {
        func field(_ name: String) -> String? {
            guard let text = block?[name]?.stringValue, !text.isEmpty, text.utf8.count <= maxOriginFieldBytes else {
                return nil
            }
            return text
        }
        guard let route = field("route"), let deliveryId = field("deliveryId"), let eventId = field("eventId") else {
            return nil
        }
        return Origin(route: route, deliveryId: deliveryId, notificationKey: field("notificationKey"), eventId: eventId)
    }

    static func removingHerald(_ data: JSONValue) -> JSONValue {
        guard case .object(let members) = data else { return .object([]) }
        return .object(members.filter { $0.key != "herald" })
    }
}
