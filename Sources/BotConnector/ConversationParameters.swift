import HeraldJSON

/// What to create with `POST v3/conversations`: a 1:1 chat with a user, or a new thread in a channel.
public struct ConversationParameters: Sendable, Hashable {
    /// Who the conversation is with.
    public enum Target: Sendable, Hashable {
        /// A 1:1 chat with a Teams user id (`29:...`).
        case user(id: String)
        /// A 1:1 chat with a user by Microsoft Entra object id (personal scope only).
        case userAADObjectId(String)
        /// A new thread in a channel (`19:...@thread.tacv2`); needs a first activity.
        case channel(id: String)
    }

    public var target: Target
    /// The recipient's tenant.
    public var tenantId: String
    /// The first message; required for a channel thread, optional for a 1:1 chat. Default: nil
    public var activity: MessageActivity?

    public init(target: Target, tenantId: String, activity: MessageActivity? = nil) {
        self.target = target
        self.tenantId = tenantId
        self.activity = activity
    }

    /// The `ConversationParameters` JSON; `botId` is the bot's channel account id (`28:APPID`).
    func encodedJSON(botId: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.raw("{\"bot\":{")
        writer.field("id", botId)
        writer.raw("},")
        switch self.target {
        case .user(let id):
            writer.raw("\"isGroup\":false,\"members\":[{")
            writer.field("id", id)
            writer.raw("}],\"channelData\":{\"tenant\":{")
        case .userAADObjectId(let objectId):
            writer.raw("\"isGroup\":false,\"members\":[{")
            writer.field("aadObjectId", objectId)
            writer.raw("}],\"channelData\":{\"tenant\":{")
        case .channel(let id):
            writer.raw("\"isGroup\":true,\"channelData\":{\"channel\":{")
            writer.field("id", id)
            writer.raw("},\"tenant\":{")
        }
        writer.field("id", self.tenantId)
        writer.raw("}},")
        writer.field("tenantId", self.tenantId)
        if let activity = self.activity {
            writer.raw(",\"activity\":")
            activity.write(to: &writer)
        }
        writer.raw("}")
        return writer.bytes
    }
}
