/// A recipient as written in `to:`, each field a template.
public enum RecipientTemplate: Sendable {
    case user(userId: TextTemplate?, aadObjectId: TextTemplate?, tenantId: TextTemplate?)
    /// `user: {email}` or `user: {upn}`.
    case person(email: TextTemplate?, upn: TextTemplate?, tenantId: TextTemplate?)
    case group(id: TextTemplate, tenantId: TextTemplate?)
    case namedChannel(teamId: TextTemplate, channelName: TextTemplate, tenantId: TextTemplate?)
    case conversation(id: TextTemplate, serviceUrl: TextTemplate?, tenantId: TextTemplate?)
    case reference(key: TextTemplate)
    case channel(teamId: TextTemplate?, channelId: TextTemplate, tenantId: TextTemplate?, threadId: TextTemplate?)
    case teamMembers(teamId: TextTemplate, tenantId: TextTemplate?)

    /// Fields each kind accepts, and which are required.
    static let fields: [String: (all: [String], required: [String])] = [
        "user": (["userId", "aadObjectId", "email", "upn", "tenantId"], []),
        "conversation": (["id", "serviceUrl", "tenantId"], ["id"]),
        "channel": (["teamId", "channelId", "channelName", "tenantId", "threadId"], []),
        "teamMembers": (["teamId", "tenantId"], ["teamId"]),
        "group": (["id", "tenantId"], ["id", "tenantId"]),
    ]
}

extension RecipientTemplate {
    /// A person named by email or UPN, or a group: the tenant's directory (Microsoft Graph) is read to deliver.
    public var readsDirectory: Bool {
        switch self {
        case .person, .group: true
        default: false
        }
    }
}

extension Router {
    /// Some route names people by email or UPN, or a group.
    public var readsDirectory: Bool {
        routes.contains { $0.recipients.contains(where: \.readsDirectory) }
    }
}
