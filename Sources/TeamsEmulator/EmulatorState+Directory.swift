import HeraldHTTP
import NIOHTTP1
import RateLimiting

extension EmulatorConfiguration {
    /// A user in the tenant's directory, as Microsoft Graph serves it.
    public struct DirectoryUser: Sendable, Hashable {
        /// The AAD object id.
        public var id: String
        public var userPrincipalName: String
        public var mail: String?
        /// `SMTP:primary@example.com`, `smtp:alias@example.com`, ...
        public var proxyAddresses: [String]
        public var accountEnabled: Bool

        public init(
            id: String, userPrincipalName: String, mail: String? = nil, proxyAddresses: [String] = [],
            accountEnabled: Bool = true
        ) {
            self.id = id
            self.userPrincipalName = userPrincipalName
            self.mail = mail
            self.proxyAddresses = proxyAddresses
            self.accountEnabled = accountEnabled
        }
    }
}

extension EmulatorState {
    /// `GET users/{id | userPrincipalName}`: 404 `Request_ResourceNotFound` for nobody.
    func directoryUser(_ key: String) -> Reply {
        let lowered = key.lowercased()
        guard
            let user = self.configuration.directoryUsers.first(where: {
                $0.id.lowercased() == lowered || $0.userPrincipalName.lowercased() == lowered
            })
        else {
            return Self.graphError(
                .notFound, "Request_ResourceNotFound",
                "Resource '\(key)' does not exist or one of its queried reference-property objects are not present.")
        }
        return Reply(status: .ok, body: Self.json(user))
    }

    /// `GET users?$filter=mail eq '{x}' or proxyAddresses/any(p:p eq 'smtp:{x}')`: the users with that address.
    func directoryUsers(withAddress address: String) -> Reply {
        let lowered = address.lowercased()
        let found = self.configuration.directoryUsers.filter { user in
            user.mail?.lowercased() == lowered || user.proxyAddresses.contains { $0.lowercased() == "smtp:" + lowered }
        }
        return Reply(
            status: .ok,
            body: #"{"@odata.count":\#(found.count),"value":["# + found.map(Self.json).joined(separator: ",") + "]}")
    }

    /// A directory call's answer (consent, Graph's directory limit, then the read); nil for any other call.
    mutating func directoryReply(to call: GraphCall, tenantId: String, now: ContinuousClock.Instant) -> Reply? {
        let permission: String
        switch call.route {
        case .user, .usersWithAddress: permission = "User.Read.All"
        case .groupMembers: permission = "GroupMember.Read.All"
        default: return nil
        }
        if let refused = self.lacksDirectoryPermission(permission, tenantId: tenantId) { return refused }
        if let windows = self.configuration.limits.graphDirectoryWindows {
            let wait =
                self.graphDirectoryLimiters[tenantId, default: SlidingWindowLimiter(windows: windows)].wait(now: now)
                ?? .zero
            guard wait == .zero else {
                self.stats.throttledBy["graphDirectory", default: 0] += 1
                return self.graphThrottled(wait)
            }
            self.graphDirectoryLimiters[tenantId]!.record(now: now)
        }
        self.stats.directoryReads += 1
        switch call.route {
        case .user(let key): return self.directoryUser(key)
        case .usersWithAddress(let address): return self.directoryUsers(withAddress: address)
        case .groupMembers(let groupId, let top, let skip):
            return self.groupMembers(groupId, top: top, skip: skip, base: call.base)
        default: return nil
        }
    }

    /// One page of a group's users, nested groups' users included (once each, or once per path when
    /// `groupsRepeatMembers`); 404 `Request_ResourceNotFound` for an unknown group.
    private func groupMembers(_ groupId: String, top: Int, skip: Int, base: String) -> Reply {
        guard self.configuration.directoryGroups[groupId] != nil else {
            return Self.graphError(
                .notFound, "Request_ResourceNotFound",
                "Resource '\(groupId)' does not exist or one of its queried reference-property objects are not present."
            )
        }
        let users = self.transitiveUsers(of: groupId)
        let page = users.dropFirst(skip).prefix(top)
        var disabled: Set<String> = []
        for user in self.configuration.directoryUsers where !user.accountEnabled { disabled.insert(user.id) }
        let listed = page.map { id in #"{"id":\#(JSONText.quote(id)),"accountEnabled":\#(!disabled.contains(id))}"# }
        var body = #"{"value":["# + listed.joined(separator: ",") + "]"
        if skip + top < users.count {
            let link =
                base + "groups/\(PercentEncoding.encode(groupId))/transitiveMembers/microsoft.graph.user"
                + "?$select=id,accountEnabled&$top=\(top)&$skiptoken=emu-\(skip + top)"
            body += #","@odata.nextLink":\#(JSONText.quote(link))"#
        }
        return Reply(status: .ok, body: body + "}")
    }

    /// The group's users in order, each nested group's after the group's own, cycles cut.
    private func transitiveUsers(of groupId: String) -> [String] {
        var users: [String] = []
        var seenUsers: Set<String> = []
        var visited: Set<String> = []
        var stack = [groupId]
        while let id = stack.popLast() {
            guard visited.insert(id).inserted, let group = self.configuration.directoryGroups[id] else { continue }
            for user in group.users where self.configuration.groupsRepeatMembers || seenUsers.insert(user).inserted {
                users.append(user)
            }
            stack.append(contentsOf: group.groups.reversed())
        }
        return users
    }

    /// 403 when the tenant's admin never granted `permission`.
    func lacksDirectoryPermission(_ permission: String, tenantId: String) -> Reply? {
        let missing = self.configuration.directoryConsentMissing.first { $0.key.lowercased() == tenantId }?.value
        guard missing?.contains(permission) == true else { return nil }
        return Self.graphError(
            .forbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    }

    private static func json(_ user: EmulatorConfiguration.DirectoryUser) -> String {
        #"{"id":\#(JSONText.quote(user.id)),"accountEnabled":\#(user.accountEnabled)}"#
    }
}

extension EmulatorCore {
    /// The address in `mail eq '{x}' or proxyAddresses/any(p:p eq 'smtp:{x}')` (OData literals, `''` for `'`),
    /// nil for any other filter.
    static func filteredAddress(_ filter: String) -> String? {
        var rest = Substring(filter)
        guard let mail = Self.literal(after: "mail eq ", in: &rest),
            let proxy = Self.literal(after: " or proxyAddresses/any(p:p eq ", in: &rest),
            rest == ")", proxy.lowercased() == "smtp:" + mail.lowercased()
        else { return nil }
        return mail
    }

    /// Reads `prefix` (case-insensitively) and then one quoted OData string literal from the start of `text`.
    private static func literal(after prefix: String, in text: inout Substring) -> String? {
        guard text.lowercased().hasPrefix(prefix.lowercased() + "'") else { return nil }
        text = text.dropFirst(prefix.count + 1)
        var value = ""
        while let character = text.first {
            text = text.dropFirst()
            if character == "'" {
                guard text.first == "'" else { return value }
                text = text.dropFirst()
            }
            value.append(character)
        }
        return nil
    }
}
