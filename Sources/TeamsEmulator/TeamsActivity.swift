import Foundation

/// An activity as Teams posts it to a bot's messaging endpoint (the fields Microsoft documents for
/// `installationUpdate`, `conversationUpdate`, `message` and `invoke`); nil fields are left out.
struct TeamsActivity: Encodable, Sendable {
    struct Account: Encodable, Sendable, Hashable {
        var id: String
        var name: String?
        var aadObjectId: String?
    }

    struct Conversation: Encodable, Sendable {
        var id: String
        var conversationType: String
        var tenantId: String
        var isGroup: Bool?
    }

    struct Reference: Encodable, Sendable {
        var id: String
        var name: String?
        var aadGroupId: String?
    }

    struct ChannelData: Encodable, Sendable {
        var tenant: Reference
        var team: Reference?
        var channel: Reference?
        var eventType: String?
    }

    struct ClientInfo: Encodable, Sendable {
        var type = "clientInfo"
        var locale: String
        var timezone: String
        var platform = "Web"
    }

    var type: String
    var id: String
    var timestamp: String
    var localTimestamp: String
    var serviceUrl: String
    var channelId = "msteams"
    var from: Account
    var recipient: Account
    var conversation: Conversation
    var channelData: ChannelData
    var locale: String
    var localTimezone: String
    var entities: [ClientInfo]
    var action: String?
    var membersAdded: [Account]?
    var membersRemoved: [Account]?
    var text: String?
    var textFormat: String?
    /// An invoke's name (`adaptiveCard/action`).
    var name: String?
    /// An invoke's payload, or the data of the Action.Submit a `message` comes from.
    var value: JSONValue?
    /// The activity holding the card whose button was pressed.
    var replyToId: String?

    /// The activity as JSON bytes.
    func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a string, a bool, parsed JSON or a list of those: encoding does not fail.
        return (try? encoder.encode(self)).map(Array.init) ?? []
    }

    /// `timestamp` (UTC) and `localTimestamp` (in `timeZone`, with its offset), as Teams writes them.
    static func timestamps(_ date: Date, timeZone: String) -> (utc: String, local: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = .gmt
        let utc = formatter.string(from: date)
        formatter.timeZone = TimeZone(identifier: timeZone) ?? .gmt
        return (utc, formatter.string(from: date))
    }
}

/// Where an activity takes place, as Teams describes it in `conversation` and `channelData`.
struct TeamsPlace: Sendable {
    enum Kind: Sendable {
        case personal
        /// A team's channel; `channelId` is the team id for the General channel.
        case channel(team: TeamsActivity.Reference, channelId: String)
        case groupChat
    }

    var conversationId: String
    var tenantId: String
    var kind: Kind

    var conversation: TeamsActivity.Conversation {
        switch self.kind {
        case .personal:
            return .init(id: self.conversationId, conversationType: "personal", tenantId: self.tenantId)
        case .channel:
            return .init(id: self.conversationId, conversationType: "channel", tenantId: self.tenantId, isGroup: true)
        case .groupChat:
            return .init(id: self.conversationId, conversationType: "groupChat", tenantId: self.tenantId, isGroup: true)
        }
    }

    func channelData(eventType: String? = nil) -> TeamsActivity.ChannelData {
        let tenant = TeamsActivity.Reference(id: self.tenantId)
        switch self.kind {
        case .personal, .groupChat:
            return .init(tenant: tenant, eventType: eventType)
        case .channel(let team, let channelId):
            return .init(tenant: tenant, team: team, channel: .init(id: channelId), eventType: eventType)
        }
    }
}
