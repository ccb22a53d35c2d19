import Foundation

/// A stored Teams conversation reference: where to send proactive messages to one recipient.
public struct ConversationReference: Sendable, Hashable, Codable {
    /// How the conversation is scoped in Teams.
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
        case personal, groupChat, channel
    }

    /// The store's primary key (see ``BotFrameworkReference`` for the default rule).
    public var key: String
    public var conversationId: String
    public var serviceUrl: String
    /// Lower-cased (tenant ids are GUIDs; events may use any case). Empty when unknown.
    public var tenantId: String
    /// The Teams user id (`29:...`) for personal chats.
    public var userId: String?
    /// The Entra object id, lower-cased.
    public var aadObjectId: String?
    public var channelId: String?
    public var teamId: String?
    public var scope: Scope
    public var botId: String?
    public var updatedAt: Date
    /// When the recipient blocked or uninstalled the bot; nil while deliverable.
    public var blockedAt: Date?
    /// Teams' error code that marked it blocked (`ConversationBlockedByUser`, ...).
    public var blockCode: String?
    /// The recipient's Teams client locale (BCP 47, `de-AT`), as Teams gave it on install or on a message; picks
    /// the route's `message.locales` variant. Nil when unknown.
    public var locale: String?

    public init(
        key: String, conversationId: String, serviceUrl: String, tenantId: String, userId: String? = nil,
        aadObjectId: String? = nil, channelId: String? = nil, teamId: String? = nil, scope: Scope,
        botId: String? = nil, updatedAt: Date = Date(), blockedAt: Date? = nil, blockCode: String? = nil,
        locale: String? = nil
    ) {
        self.key = key
        self.conversationId = conversationId
        self.serviceUrl = serviceUrl
        self.tenantId = tenantId.lowercased()
        self.userId = userId
        self.aadObjectId = aadObjectId?.lowercased()
        self.channelId = channelId
        self.teamId = teamId
        self.scope = scope
        self.botId = botId
        self.updatedAt = updatedAt
        self.blockedAt = blockedAt
        self.blockCode = blockCode
        self.locale = locale.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A page of a listing; pass ``nextCursor`` as `after` for the next page (nil: this was the last).
public struct Page<Element: Sendable>: Sendable {
    public var items: [Element]
    public var nextCursor: String?

    public init(items: [Element], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
