/// On the wire a recipient is `{"kind": "user", "aadObjectId": ..., "tenantId": ...}`: the kind plus that
/// kind's fields, absent fields omitted.
extension Recipient: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, userId, aadObjectId, tenantId, id, serviceUrl, key, teamId, channelId, threadId, email, upn,
            channelName
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let tenant = try c.decodeIfPresent(String.self, forKey: .tenantId)
        switch try c.decode(String.self, forKey: .kind) {
        case "user" where c.contains(.email):
            self = .person(.email(try c.decode(String.self, forKey: .email)), tenantId: tenant)
        case "user" where c.contains(.upn):
            self = .person(.upn(try c.decode(String.self, forKey: .upn)), tenantId: tenant)
        case "channel" where c.contains(.channelName):
            self = .namedChannel(
                teamId: try c.decode(String.self, forKey: .teamId),
                channelName: try c.decode(String.self, forKey: .channelName), tenantId: tenant)
        case "group":
            self = .group(id: try c.decode(String.self, forKey: .id), tenantId: tenant)
        case "user":
            self = .user(
                userId: try c.decodeIfPresent(String.self, forKey: .userId),
                aadObjectId: try c.decodeIfPresent(String.self, forKey: .aadObjectId), tenantId: tenant)
        case "conversation":
            self = .conversation(
                id: try c.decode(String.self, forKey: .id),
                serviceUrl: try c.decodeIfPresent(String.self, forKey: .serviceUrl), tenantId: tenant)
        case "reference":
            self = .reference(key: try c.decode(String.self, forKey: .key))
        case "channel":
            self = .channel(
                teamId: try c.decodeIfPresent(String.self, forKey: .teamId),
                channelId: try c.decode(String.self, forKey: .channelId), tenantId: tenant,
                threadId: try c.decodeIfPresent(String.self, forKey: .threadId))
        case "teamMembers":
            self = .teamMembers(teamId: try c.decode(String.self, forKey: .teamId), tenantId: tenant)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown kind \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .user(let userId, let aad, let tenant):
            try c.encodeIfPresent(userId, forKey: .userId)
            try c.encodeIfPresent(aad, forKey: .aadObjectId)
            try c.encodeIfPresent(tenant, forKey: .tenantId)
        case .conversation(let id, let serviceUrl, let tenant):
            try c.encode(id, forKey: .id)
            try c.encodeIfPresent(serviceUrl, forKey: .serviceUrl)
            try c.encodeIfPresent(tenant, forKey: .tenantId)
        case .reference(let key):
            try c.encode(key, forKey: .key)
        case .channel(let team, let channel, let tenant, let thread):
            try c.encodeIfPresent(team, forKey: .teamId)
            try c.encode(channel, forKey: .channelId)
            try c.encodeIfPresent(tenant, forKey: .tenantId)
            try c.encodeIfPresent(thread, forKey: .threadId)
        case .teamMembers(let team, let tenant):
            try c.encode(team, forKey: .teamId)
            try c.encodeIfPresent(tenant, forKey: .tenantId)
        case .person(let name, let tenant):
            switch name {
            case .email(let address): try c.encode(address, forKey: .email)
            case .upn(let upn): try c.encode(upn, forKey: .upn)
            }
            try c.encodeIfPresent(tenant, forKey: .tenantId)
        case .group(let id, let tenant):
            try c.encode(id, forKey: .id)
            try c.encodeIfPresent(tenant, forKey: .tenantId)
        case .namedChannel(let team, let name, let tenant):
            try c.encode(team, forKey: .teamId)
            try c.encode(name, forKey: .channelName)
            try c.encodeIfPresent(tenant, forKey: .tenantId)
        }
    }
}
