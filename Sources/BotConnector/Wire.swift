/// `ConversationResourceResponse`: what creating a conversation returns.
public struct ConversationResource: Sendable, Hashable, Decodable {
    /// The conversation id (`a:...` for 1:1, `19:...;messageid=...` for a channel thread).
    public var id: String
    /// The id of the first activity, when one was sent with the request.
    public var activityId: String?
    /// The serviceUrl to use for this conversation from now on, when Teams says.
    public var serviceUrl: String?

    public init(id: String, activityId: String? = nil, serviceUrl: String? = nil) {
        self.id = id
        self.activityId = activityId
        self.serviceUrl = serviceUrl
    }
}

/// `ResourceResponse`: the id of the activity sent or updated.
struct ResourceResponse: Decodable {
    var id: String?

    /// The id when `json` is exactly one object with one `"id"` member whose string has no escapes
    /// (whitespace allowed between tokens); nil for anything else, which the full decoder then reads.
    static func plainId(in json: UnsafeRawBufferPointer) -> String? {
        var index = 0
        func skipSpace() {
            while index < json.count {
                switch json[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1  // JSON's whitespace
                default: return
                }
            }
        }
        func expect(_ bytes: StaticString) -> Bool {
            skipSpace()
            let count = bytes.utf8CodeUnitCount
            guard json.count - index >= count else { return false }
            for offset in 0..<count where json[index + offset] != bytes.utf8Start[offset] { return false }
            index += count
            return true
        }
        guard expect("{"), expect("\"id\""), expect(":"), expect("\"") else { return nil }
        let start = index
        while index < json.count, json[index] != 0x22 {
            // An escape or a control character: leave it to the decoder.
            guard json[index] != 0x5C, json[index] >= 0x20 else { return nil }
            index += 1
        }
        guard index < json.count else { return nil }
        guard let id = String(validating: UnsafeRawBufferPointer(rebasing: json[start..<index]), as: UTF8.self) else {
            return nil
        }
        index += 1
        guard expect("}") else { return nil }
        skipSpace()
        return index == json.count ? id : nil
    }
}

/// `TeamsChannelAccount`: one member of a team or conversation.
public struct TeamsMember: Sendable, Hashable, Decodable {
    /// The Teams user id (`29:...`).
    public var id: String
    public var name: String?
    public var aadObjectId: String?
    public var email: String?
    public var userPrincipalName: String?
    public var tenantId: String?

    public init(id: String, name: String? = nil, aadObjectId: String? = nil, tenantId: String? = nil) {
        self.id = id
        self.name = name
        self.aadObjectId = aadObjectId
        self.tenantId = tenantId
    }
}

/// `PagedMembersResult`: one page of members; no continuation token means the last page.
/// A channel of a team, as `GET v3/teams/{teamId}/conversations` lists it.
public struct TeamChannel: Sendable, Hashable, Decodable {
    /// The channel's conversation id (`19:...@thread.tacv2`).
    public var id: String
    /// Nil (in Teams' answer) for the General channel.
    public var name: String?

    public init(id: String, name: String?) {
        self.id = id
        self.name = name
    }
}

public struct MembersPage: Sendable, Hashable, Decodable {
    public var members: [TeamsMember]
    public var continuationToken: String?

    public init(members: [TeamsMember], continuationToken: String?) {
        self.members = members
        self.continuationToken = continuationToken
    }

    enum CodingKeys: String, CodingKey { case members, continuationToken }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.members = try container.decodeIfPresent([TeamsMember].self, forKey: .members) ?? []
        let token = try container.decodeIfPresent(String.self, forKey: .continuationToken)
        self.continuationToken = token?.isEmpty == true ? nil : token
    }
}
