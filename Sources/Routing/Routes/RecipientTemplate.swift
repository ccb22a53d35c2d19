/// A recipient as written in `to:`, each field a template.
public enum RecipientTemplate: Sendable {
    case user(userId: TextTemplate?, aadObjectId: TextTemplate?, tenantId: TextTemplate?)
    case conversation(id: TextTemplate, serviceUrl: TextTemplate?, tenantId: TextTemplate?)
    case reference(key: TextTemplate)
    case channel(teamId: TextTemplate?, channelId: TextTemplate, tenantId: TextTemplate?, threadId: TextTemplate?)
    case teamMembers(teamId: TextTemplate, tenantId: TextTemplate?)

    /// Fields each kind accepts, and which are required.
    static let fields: [String: (all: [String], required: [String])] = [
        "user": (["userId", "aadObjectId", "tenantId"], []),
        "conversation": (["id", "serviceUrl", "tenantId"], ["id"]),
        "channel": (["teamId", "channelId", "tenantId", "threadId"], ["channelId"]),
        "teamMembers": (["teamId", "tenantId"], ["teamId"]),
    ]
}
