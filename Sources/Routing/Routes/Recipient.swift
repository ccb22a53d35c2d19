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
    /// A person as upstream systems know them, resolved through the tenant's directory to an Entra object id.
    case person(PersonName, tenantId: String?)
    /// Every enabled user in an Entra ID group, nested groups included, one 1:1 delivery per person.
    case group(id: String, tenantId: String?)
    /// A new thread in the team's channel of this name (`General` for the team's general channel).
    case namedChannel(teamId: String, channelName: String, tenantId: String?)

    /// How an upstream system names a person.
    public enum PersonName: Sendable, Hashable {
        /// An email address: the user's `mail` or one of their proxy addresses.
        case email(String)
        /// The user principal name.
        case upn(String)

        /// The address as given.
        public var value: String {
            switch self {
            case .email(let v), .upn(let v): v
            }
        }
    }

    /// `user`, `conversation`, `reference`, `channel`, `teamMembers` or `group`.
    public var kind: String {
        switch self {
        case .user, .person: "user"
        case .conversation: "conversation"
        case .reference: "reference"
        case .channel, .namedChannel: "channel"
        case .teamMembers: "teamMembers"
        case .group: "group"
        }
    }

    /// A stable string naming the recipient, used in ``Delivery/deliveryId``:
    /// `user:aad:<tenant>/<objectId>`, `user:id:<tenant>/<userId>`, `conversation:<id>`, `reference:<key>`,
    /// `channel:<teamId>/<channelId>[/<threadId>]`, `teamMembers:<teamId>`, `user:email:<tenant>/<address>`,
    /// `user:upn:<tenant>/<upn>`, `group:<tenant>/<id>`, `channel:<teamId>/name:<name>`. Tenant ids, addresses and
    /// names are lower-cased (the directory compares them so) so one person is one identity whatever the case an
    /// event used. A directory recipient's deliveries use the identity it resolves to (``user(userId:aadObjectId:tenantId:)``).
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
        case .person(.email(let address), let tenant):
            return "user:email:\(tenant?.lowercased() ?? "")/\(address.lowercased())"
        case .person(.upn(let upn), let tenant): return "user:upn:\(tenant?.lowercased() ?? "")/\(upn.lowercased())"
        case .group(let id, let tenant): return "group:\(tenant?.lowercased() ?? "")/\(id.lowercased())"
        case .namedChannel(let team, let name, _): return "channel:\(team)/name:\(name.lowercased())"
        }
    }
}
