/// Who a delivery goes to, with every `${...}` resolved (SPEC recipient kinds).
public enum Recipient: Sendable, Hashable {
    /// A 1:1 chat with a user, by Teams user id (`29:...`) or Entra object id.
    case user(userId: String?, aadObjectId: String?, tenantId: String?)
    /// An existing conversation.
    case conversation(id: String, serviceUrl: String?, tenantId: String?)
    /// A stored conversation reference by key.
    case reference(key: String)
    /// A new thread in a channel, or a reply in `threadId`.
    case channel(teamId: String?, channelId: String, tenantId: String?, threadId: String?)
    /// Every member of a team, one 1:1 delivery per member.
    case teamMembers(teamId: String, tenantId: String?)

    /// `user`, `conversation`, `reference`, `channel` or `teamMembers`.
    public var kind: String {
        switch self {
        case .user: "user"
        case .conversation: "conversation"
        case .reference: "reference"
        case .channel: "channel"
        case .teamMembers: "teamMembers"
        }
    }

    /// A stable string naming the recipient, used in ``Delivery/deliveryId``:
    /// `user:aad:<tenant>/<objectId>`, `user:id:<tenant>/<userId>`, `conversation:<id>`, `reference:<key>`,
    /// `channel:<teamId>/<channelId>[/<threadId>]`, `teamMembers:<teamId>`. Tenant ids are lower-cased (they
    /// are GUIDs) so the same person is one identity whatever the case an event used.
    public var identity: String {
        switch self {
        case .user(let userId, let aad, let tenant):
            let t = tenant?.lowercased() ?? ""
            if let aad { return "user:aad:\(t)/\(aad.lowercased())" }
            return "user:id:\(t)/\(userId ?? "")"
        case .conversation(let id, _, _): return "conversation:\(id)"
        case .reference(let key): return "reference:\(key)"
        case .channel(let team, let channel, _, let thread):
            return "channel:\(team ?? "")/\(channel)" + (thread.map { "/" + $0 } ?? "")
        case .teamMembers(let team, _): return "teamMembers:\(team)"
        }
    }
}
