import NIOHTTP1

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
