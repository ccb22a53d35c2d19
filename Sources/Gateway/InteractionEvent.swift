import Foundation
import HeraldJSON
import Routing

/// A CloudEvents 1.0 event (structured JSON) on `kafka.interactionsTopic`: something a user did in Teams.
/// `Schemas/interaction-event.schema.json` describes it.
struct InteractionEvent: Sendable, Encodable {
    /// The types the gateway publishes.
    enum Kind: String, Sendable, CaseIterable {
        case appInstalled = "herald.teams.app.installed"
        case appUninstalled = "herald.teams.app.uninstalled"
        case membersAdded = "herald.teams.members.added"
        case membersRemoved = "herald.teams.members.removed"
        case message = "herald.teams.message"
        case optedOut = "herald.teams.optout"
        case optedIn = "herald.teams.optin"
        case acknowledged = "herald.teams.acknowledged"
        case cardAction = "herald.teams.card.action"
    }

    /// A pressed button: which one, on the card of which delivery.
    struct Action: Sendable, Encodable {
        /// The button's verb (`herald.optOut`, `approve`...); absent for an Action.Submit without one.
        var verb: String?
        /// `Action.Execute` or `Action.Submit`.
        var buttonType: String
        /// The route, delivery, notification key and event of the card (its buttons' `herald` block).
        var route: String?
        var deliveryId: String?
        var notificationKey: String?
        var eventId: String?
        /// Opt-outs and opt-ins: `route` (the card's route) or `all`.
        var scope: String?
        /// The button's data without Herald's block, as the card's author wrote it (and the client sent it).
        var data: EncodableJSON?
        /// The card's activity id.
        var activityId: String?
    }

    struct Person: Sendable, Encodable, Hashable {
        var id: String?
        var aadObjectId: String?
        var name: String?
    }

    struct Named: Sendable, Encodable, Hashable {
        var id: String?
        var name: String?
    }

    struct Conversation: Sendable, Encodable, Hashable {
        var id: String
        var type: String
    }

    struct Data: Sendable, Encodable {
        var tenantId: String
        var scope: String
        var user: Person?
        var team: Named?
        var channel: Named?
        var conversation: Conversation
        var serviceUrl: String
        var referenceKey: String?
        var locale: String?
        var timeZone: String?
        /// What the user wrote (messages only).
        var text: String?
        /// Who added or removed the app, or the user a membership change is about, is `user`; for a team the
        /// one who did it when Teams says (`from`).
        var actor: Person?
        /// Card actions: the button pressed (`user` is who pressed it).
        var action: Action?
    }

    var specversion = "1.0"
    var id: String
    var source: String
    var type: String
    var subject: String?
    var time: String
    var datacontenttype = "application/json"
    var data: Data

    /// The record key: tenant and conversation, so one conversation's events stay in order.
    var key: String { "\(data.tenantId)/\(data.conversation.id)" }

    /// The record value.
    func encoded() -> [UInt8] {
        (try? Array(JSONEncoder.gatewayRecords.encode(self))) ?? []
    }
}

extension JSONEncoder {
    /// The encoder of every record the gateway publishes (sorted keys: the same activity, the same bytes), made once.
    static let gatewayRecords: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// A ``JSONValue`` written by `JSONEncoder` (objects keep their members; numbers are doubles).
struct EncodableJSON: Sendable, Encodable {
    var value: JSONValue

    func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            var c = encoder.singleValueContainer()
            if n.isFinite, n == n.rounded(), abs(n) < 9e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let text):
            var c = encoder.singleValueContainer()
            try c.encode(text)
        case .array(let elements):
            var c = encoder.unkeyedContainer()
            for element in elements { try c.encode(EncodableJSON(value: element)) }
        case .object(let members):
            var c = encoder.container(keyedBy: InboundActivity.Key.self)
            var seen: Set<String> = []
            // A repeated key is read as its first occurrence, as everywhere in Herald.
            for member in members where seen.insert(member.key).inserted {
                try c.encode(EncodableJSON(value: member.value), forKey: InboundActivity.Key(stringValue: member.key))
            }
        }
    }
}
