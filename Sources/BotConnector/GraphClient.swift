import AsyncHTTPClient
import Foundation
import HeraldJSON
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Microsoft Graph, for what the Bot Connector cannot do: installing the Teams app for a user who never
/// installed it (proactive installation), and finding the 1:1 chat that installation opened.
///
/// Tokens are app-only (client credentials) and per tenant: `{login}/{tenantId}/oauth2/v2.0/token` with the
/// cloud's Graph scope, cached per tenant. Like ``BotConnectorClient``, nothing is sent to a host outside the
/// allow-list (the cloud's Graph host plus the configured extras), and ids from events are checked before
/// they become part of a URL. Failures are thrown as ``BotConnectorError`` (429 and 503 retryable with their
/// `Retry-After`; 403 is ``BotConnectorError/Code/graphConsentMissing``); the caller retries.
public final class GraphClient: Sendable {
    /// Where Graph and its tokens are.
    public struct Configuration: Sendable {
        /// The bot's app id and secret (the app registration Graph knows).
        public var appId: String
        /// Never logged.
        public var appPassword: String
        public var cloud: Cloud
        /// Graph's base URL (without the version); nil: the cloud's (`https://graph.microsoft.com`).
        public var graphURL: String?
        /// The sign-in host tokens come from; nil: the cloud's (`https://login.microsoftonline.com`).
        public var loginURL: String?
        /// Hosts besides the cloud's Graph host that may receive a Graph token (`http://127.0.0.1:3978`).
        public var allowedHosts: [String]
        /// Time allowed for one call. Default: 30 s
        public var requestTimeout: Duration

        public init(
            appId: String, appPassword: String, cloud: Cloud = .public, graphURL: String? = nil,
            loginURL: String? = nil, allowedHosts: [String] = [], requestTimeout: Duration = .seconds(30)
        ) {
            self.appId = appId
            self.appPassword = appPassword
            self.cloud = cloud
            self.graphURL = graphURL
            self.loginURL = loginURL
            self.allowedHosts = allowedHosts
            self.requestTimeout = requestTimeout
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let allowList: ServiceHostAllowList
    private let logger: Logger
    private let tokens = Mutex<[String: TokenProvider]>([:])

    /// Its own pooled connections, which never follow redirects (they could carry the token away); call
    /// ``shutdown()`` when done.
    public init(configuration: Configuration, logger: Logger) {
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.tracing.tracer = nil  // no per-request span attributes (see BotConnectorClient)
        self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
        self.configuration = configuration
        self.allowList = ServiceHostAllowList(
            httpsHosts: [(try? ServiceUrl(configuration.cloud.graphURL))?.host].compactMap { $0 },
            extras: configuration.allowedHosts)
        var logger = logger
        logger[metadataKey: "bot.appId"] = "\(configuration.appId)"
        self.logger = logger
    }

    /// Closes the connections.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    /// Installs the app `teamsAppId` (its id in the organisation's app catalog) for the user; true when it
    /// was installed now (201), false when it already was (409).
    public func installApp(
        teamsAppId: String, userId: String, tenantId: String
    ) async throws(BotConnectorError) -> Bool {
        let user = try BotConnectorClient.segment(userId, "user id")
        let app = try BotConnectorClient.segment(teamsAppId, "Teams app id")
        var body = JSONWriter()
        body.raw("{")
        body.field("teamsApp@odata.bind", "\(graphBase)/v1.0/appCatalogs/teamsApps/\(app)")
        body.raw("}")
        do {
            _ = try await perform(
                .POST, "v1.0/users/\(user)/teamwork/installedApps", tenantId: tenantId, body: body.bytes)
            return true
        } catch  where error.httpStatus == 409 {
            return false
        }
    }

    /// The id of the user's installation of `teamsAppId`, nil when the app is not installed for them.
    public func installationId(
        teamsAppId: String, userId: String, tenantId: String
    ) async throws(BotConnectorError) -> String? {
        let user = try BotConnectorClient.segment(userId, "user id")
        _ = try BotConnectorClient.segment(teamsAppId, "Teams app id")
        let filter = FormEncoding.encode("teamsApp/id eq '\(teamsAppId)'")
        let response = try await perform(
            .GET, "v1.0/users/\(user)/teamwork/installedApps?$expand=teamsApp&$filter=\(filter)", tenantId: tenantId
        )
        struct Installations: Decodable {
            struct Installation: Decodable { var id: String }
            var value: [Installation]
        }
        return try BotConnectorClient.decode(Installations.self, response).value.first?.id
    }

    /// The id of the 1:1 chat between the user and the bot that the installation opened: the conversation
    /// id the Bot Connector sends to.
    public func chatId(
        userId: String, installationId: String, tenantId: String
    ) async throws(BotConnectorError) -> String {
        let user = try BotConnectorClient.segment(userId, "user id")
        let installation = try BotConnectorClient.segment(installationId, "installation id")
        let response = try await perform(
            .GET, "v1.0/users/\(user)/teamwork/installedApps/\(installation)/chat", tenantId: tenantId)
        struct Chat: Decodable { var id: String }
        let id = try BotConnectorClient.decode(Chat.self, response).id
        guard !id.isEmpty else {
            throw BotConnectorError(code: .invalidResponse, httpStatus: 200, message: "Graph returned an empty chat id")
        }
        return id
    }

    // MARK: Directory

    /// How an upstream system names a person.
    public enum DirectoryName: Sendable, Hashable {
        /// The user principal name (`ada@contoso.com`).
        case userPrincipalName(String)
        /// An email address: the user's `mail` or one of their proxy addresses, which need not be the UPN.
        case email(String)
    }

    /// A directory user, as far as delivering to them needs.
    public struct DirectoryUser: Sendable, Hashable, Decodable {
        /// The AAD object id.
        public var id: String
        /// False for a disabled account: nobody will read what is sent to it.
        public var accountEnabled: Bool

        public init(id: String, accountEnabled: Bool) {
            self.id = id
            self.accountEnabled = accountEnabled
        }

        enum CodingKeys: String, CodingKey { case id, accountEnabled }

        /// An answer without `accountEnabled` (a property Graph leaves out when it was not selected) is taken as
        /// enabled: Teams refuses a disabled account anyway.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try c.decode(String.self, forKey: .id)
            self.accountEnabled = try c.decodeIfPresent(Bool.self, forKey: .accountEnabled) ?? true
        }
    }

    /// The user `name` resolves to in the tenant's directory; nil when nobody has it. A 403 is the tenant's
    /// missing `User.Read.All` consent (`DirectoryConsentMissing`).
    public func directoryUser(
        _ name: DirectoryName, tenantId: String
    ) async throws(BotConnectorError) -> DirectoryUser? {
        switch name {
        case .userPrincipalName(let upn):
            let user = try BotConnectorClient.segment(upn, "user principal name")
            do {
                let response = try await perform(
                    .GET, "v1.0/users/\(user)?$select=id,accountEnabled", tenantId: tenantId,
                    permission: "User.Read.All")
                return try BotConnectorClient.decode(DirectoryUser.self, response)
            } catch  where error.httpStatus == 404 {
                return nil
            }
        case .email(let address):
            guard !address.isEmpty, address.utf8.count <= 320 else {
                throw BotConnectorError(code: .badArgument, message: "not a valid email address")
            }
            let quoted = Self.odataLiteral(address)
            let smtp = Self.odataLiteral("smtp:" + address)
            let filter = FormEncoding.encode("mail eq \(quoted) or proxyAddresses/any(p:p eq \(smtp))")
            // Filtering on proxyAddresses is an advanced query: Graph wants both of these.
            let response = try await perform(
                .GET, "v1.0/users?$filter=\(filter)&$select=id,accountEnabled&$count=true", tenantId: tenantId,
                headers: [("ConsistencyLevel", "eventual")], permission: "User.Read.All")
            struct Users: Decodable { var value: [DirectoryUser] }
            return try BotConnectorClient.decode(Users.self, response).value.first
        }
    }

    /// One page of a group's users, nested groups' users included.
    public struct GroupMembersPage: Sendable, Hashable {
        public var users: [DirectoryUser]
        /// The next page's link (Graph's `@odata.nextLink`); nil on the last page.
        public var nextLink: String?

        public init(users: [DirectoryUser], nextLink: String?) {
            self.users = users
            self.nextLink = nextLink
        }
    }

    /// One page of `GET /groups/{id}/transitiveMembers/microsoft.graph.user` (the first when `nextLink` is nil),
    /// `pageSize` users at most (Graph allows 999); nil when the tenant has no such group. A 403 is the tenant's
    /// missing `GroupMember.Read.All` consent (`DirectoryConsentMissing`). A next link that does not point at this
    /// client's Graph is refused: the token goes nowhere else.
    public func groupMembersPage(
        groupId: String, tenantId: String, nextLink: String? = nil, pageSize: Int = 999
    ) async throws(BotConnectorError) -> GroupMembersPage? {
        let path: String
        if let nextLink {
            let prefix = graphBase + "/v1.0/"
            guard nextLink.hasPrefix(prefix), nextLink.utf8.count <= 4096,
                !nextLink.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F })
            else {
                throw BotConnectorError(
                    code: .invalidResponse, message: "Graph's @odata.nextLink does not point at Microsoft Graph")
            }
            path = String(nextLink.dropFirst(graphBase.count + 1))
        } else {
            let group = try BotConnectorClient.segment(groupId, "group id")
            path =
                "v1.0/groups/\(group)/transitiveMembers/microsoft.graph.user?$select=id,accountEnabled"
                + "&$top=\(max(1, min(pageSize, 999)))"
        }
        let response: BotConnectorClient.Response
        do {
            response = try await perform(.GET, path, tenantId: tenantId, permission: "GroupMember.Read.All")
        } catch  where error.httpStatus == 404 && nextLink == nil {
            return nil
        }
        struct Page: Decodable {
            var value: [DirectoryUser]
            var nextLink: String?
            enum CodingKeys: String, CodingKey {
                case value
                case nextLink = "@odata.nextLink"
            }
        }
        let page = try BotConnectorClient.decode(Page.self, response)
        return GroupMembersPage(users: page.value, nextLink: page.nextLink)
    }

    /// `value` as an OData string literal: in quotes, each quote doubled, so nothing in it can end the literal and
    /// add to the filter.
    static func odataLiteral(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    // MARK: Transport

    private var graphBase: String {
        var base = configuration.graphURL ?? configuration.cloud.graphURL
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// One authorized call; a 401 refreshes the tenant's token and retries once. A 403 is the missing consent
    /// for `permission` when the call names one, else an installation's refusal (see ``classifyForbidden``).
    private func perform(
        _ method: HTTPMethod, _ path: String, tenantId: String, body: [UInt8]? = nil,
        headers: [(String, String)] = [], permission: String? = nil
    ) async throws(BotConnectorError) -> BotConnectorClient.Response {
        let url = "\(graphBase)/\(path)"
        let service = try ServiceUrl(graphBase)
        guard allowList.allows(service) else {
            throw BotConnectorError(
                code: .serviceUrlNotAllowed,
                message: "Graph host \(service.host):\(service.port) (\(service.scheme)) is not an allowed host")
        }
        let tokens = try tokenProvider(tenantId: tenantId)
        var token = try await tokens.token()
        func send(_ token: String) async throws(BotConnectorError) -> BotConnectorClient.Response {
            let (status, headers, body) = try await authorizedCall(
                httpClient, method, url: url, body: body, token: token, timeout: configuration.requestTimeout,
                maxBody: 1 << 20, headers: headers)
            return BotConnectorClient.Response(status: status, headers: headers, body: body, service: service)
        }
        var response = try await send(token)
        if response.status == 401 {
            tokens.invalidate(token)
            token = try await tokens.token()
            response = try await send(token)
        }
        guard (200..<300).contains(response.status) else {
            var error = BotConnectorError.fromResponse(
                status: response.status, headers: response.headers, body: Array(buffer: response.body),
                nowEpochSeconds: Date().timeIntervalSince1970)
            if response.status == 403, let permission {
                error.code = .directoryConsentMissing
                error.teamsCode = error.code.teamsName
                error.message =
                    "Microsoft Graph refused to read the directory (HTTP 403): grant the app \(permission) in tenant "
                    + "\(tenantId) (\(error.message))"
            } else if response.status == 403 {
                Self.classifyForbidden(&error, tenantId: tenantId)
            }
            logger.debug(
                "Graph call failed",
                metadata: ["http.method": "\(method.rawValue)", "http.status": "\(response.status)"])
            throw error
        }
        return response
    }

    /// Graph answers 403 with code `Forbidden` both when the tenant's admin never granted the permission and when
    /// an app permission policy blocks the app for one user; only the message tells them apart. A policy
    /// refusal is that user's (`AppInstallBlocked`); anything else is taken as the tenant's missing consent.
    static func classifyForbidden(_ error: inout BotConnectorError, tenantId: String) {
        let graphMessage = error.message
        if graphMessage.range(of: "app permission policy", options: .caseInsensitive) != nil {
            error.code = .appInstallBlocked
            error.message =
                "an app permission policy blocks the app for this user (HTTP 403): allow the app in the policy "
                + "assigned to them in the Teams admin center (\(graphMessage))"
        } else {
            error.code = .graphConsentMissing
            error.message =
                "Microsoft Graph refused to install the app (HTTP 403): grant the app "
                + "TeamsAppInstallation.ReadWriteForUser.All in tenant \(tenantId) (\(graphMessage))"
        }
        error.teamsCode = error.code.teamsName
    }

    /// The tenant's token cache. A tenant id from an event becomes part of the token URL: only GUIDs and
    /// domain names are accepted.
    private func tokenProvider(tenantId: String) throws(BotConnectorError) -> TokenProvider {
        guard !tenantId.isEmpty, tenantId.utf8.count <= 128,
            tenantId.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".")
            }), tenantId.first != ".", !tenantId.contains("..")
        else {
            throw BotConnectorError(code: .badArgument, message: "not a valid tenant id for Microsoft Graph")
        }
        let key = tenantId.lowercased()
        return tokens.withLock { tokens in
            if let provider = tokens[key] { return provider }
            var login = configuration.loginURL ?? configuration.cloud.loginURL
            while login.hasSuffix("/") { login.removeLast() }
            let provider = TokenProvider(
                configuration: .init(
                    tokenURL: "\(login)/\(key)/oauth2/v2.0/token", clientId: configuration.appId,
                    clientSecret: configuration.appPassword, scope: configuration.cloud.graphURL + "/.default"),
                httpClient: httpClient, logger: logger)
            tokens[key] = provider
            return provider
        }
    }
}
