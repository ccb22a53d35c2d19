import Foundation

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
