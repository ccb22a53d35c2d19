/// What the emulator accepts and how it misbehaves, on the Bot Connector API and on Microsoft Graph.
/// Everything but the credentials can be changed while it runs (``TeamsEmulator/updateConfiguration(_:)``, `POST /emulator/config`).
public struct EmulatorConfiguration: Sendable {
    /// How a blocked recipient's 403 looks.
    public enum BlockShape: String, Sendable, Hashable, CaseIterable {
        /// `{"errorCode":209,"message":"{\"subCode\":\"MessageWritesBlocked\",...}"}`
        case messageWritesBlocked
        /// `{"error":{"code":"ConversationBlockedByUser","message":...}}`
        case conversationBlockedByUser
        /// The 209 shape with no subCode.
        case noSubCode
    }

    /// Whether a 429 carries `Retry-After`.
    public enum RetryAfterMode: String, Sendable, Hashable {
        case always
        case never
        /// Every other 429, as Teams sometimes does and sometimes not.
        case alternate
    }

    /// Probabilities (0...1) of answering an API call with an injected failure instead of serving it.
    public struct Faults: Sendable, Hashable {
        public var preconditionFailed: Double = 0
        public var badGateway: Double = 0
        public var serviceUnavailable: Double = 0
        public var gatewayTimeout: Double = 0
        /// Close the connection without answering.
        public var dropConnection: Double = 0
        /// 429 without `Retry-After`, outside the rate limits (Teams does this under service-wide load).
        public var throttled: Double = 0
        /// The share of Microsoft Graph calls answered 429 TooManyRequests with `Retry-After: 1`, spread evenly
        /// rather than drawn (0.4: two calls in every five). Not part of the Bot Connector rates above, which never
        /// apply to Graph calls.
        public var graph429: Double = 0

        public init() {}

        /// `rate` spread evenly over 412, 502, 503 and 504.
        public init(rate: Double) {
            self.preconditionFailed = rate / 4
            self.badGateway = rate / 4
            self.serviceUnavailable = rate / 4
            self.gatewayTimeout = rate / 4
        }

        var total: Double {
            self.preconditionFailed + self.badGateway + self.serviceUnavailable + self.gatewayTimeout
                + self.dropConnection + self.throttled
        }
    }

    /// An Entra ID group: its users' object ids and its nested groups' ids.
    public struct DirectoryGroup: Sendable, Hashable {
        public var users: [String]
        public var groups: [String]

        public init(users: [String] = [], groups: [String] = []) {
            self.users = users
            self.groups = groups
        }
    }

    /// A channel of a team.
    public struct Channel: Sendable, Hashable {
        /// `19:...@thread.tacv2`.
        public var id: String
        /// Nil for the General channel.
        public var name: String?

        public init(id: String, name: String?) {
            self.id = id
            self.name = name
        }
    }

    /// A member of a team roster.
    public struct Member: Sendable, Hashable {
        public var id: String
        public var name: String?
        public var aadObjectId: String?

        public init(id: String, name: String? = nil, aadObjectId: String? = nil) {
            self.id = id
            self.name = name
            self.aadObjectId = aadObjectId
        }
    }

    /// The bot's app id (OAuth client id).
    public var appId: String
    /// The bot's secret.
    public var appPassword: String
    /// The scope the token endpoint requires. Default: `https://api.botframework.com/.default`
    public var scope: String
    /// Lifetime of issued tokens. Default: 3600 s
    public var tokenLifetime: Duration
    /// Rate limits. Default: `.teams`
    public var limits: LimitMode
    /// Whether 429s carry `Retry-After`. Default: `.alternate`
    public var retryAfter: RetryAfterMode
    /// Added before every API answer. Default: 0
    public var latency: Duration
    /// Injected failures. Default: none
    public var faults: Faults
    /// Users (Teams id `29:...` or AAD object id) who blocked the bot. Default: none
    public var blocked: [String: BlockShape]
    /// Users (Teams id or AAD object id) without the bot installed: 403 ForbiddenOperationException, until the app
    /// is installed for them through Microsoft Graph. Default: none
    public var notInstalled: Set<String>
    /// Answer `notInstalled` users 403 with an empty body, no code at all, as Teams often does in the field,
    /// instead of 403 ForbiddenOperationException. Default: false
    public var notInstalledWithoutCode: Bool
    /// How long after Microsoft Graph installs the app for a user the installation and its chat become
    /// visible (Graph is eventually consistent): until then the user's installed apps list is empty and the
    /// chat lookup answers 404. Default: zero (visible at once)
    public var graphLag: Duration
    /// Tenants whose admin disabled the bot: 403 BotDisabledByAdmin. Default: none
    public var disabledTenants: Set<String>
    /// Channels or conversations the bot was removed from: 403 BotNotInConversationRoster. Default: none
    public var removedFromConversations: Set<String>
    /// GCC tenants: their calls must come through a serviceUrl whose path starts with `/gcc` (standing in
    /// for the GCC host); other paths get 403 InvalidBotApiHost. Default: none
    public var gccTenants: Set<String>
    /// Tenants that moved to another geo (or the EU Data Boundary), each with its new regional serviceUrl
    /// (absolute, e.g. `http://127.0.0.1:PORT/emea/`). A call for such a tenant through another regional path is
    /// refused as ``movedTenantAnswer`` says; calls through the new path or a global one (the emulator's own
    /// serviceUrl, `/teams/`) are served, and conversation creates answer with the new serviceUrl.
    /// Default: none
    public var movedTenants: [String: String] = [:]
    /// How a moved tenant's call through another geo is refused. Default: 403 BadArgument
    public var movedTenantAnswer: MovedTenantAnswer = .forbidden
    /// The tenant a single-tenant bot is registered in: the token endpoint then issues tokens only at that
    /// tenant's URL and answers any other (`botframework.com` included) 400 `unauthorized_client` with
    /// AADSTS700016, as Entra does. Default: nil (a multi-tenant bot: any tenant segment)
    public var homeTenant: String? = nil
    /// Team rosters served by `pagedmembers`, by team id. Default: none
    public var teams: [String: [Member]]
    /// The tenant each team belongs to, by team id: reading its roster counts against that tenant's 50 requests a
    /// second as well as the team's own member-read windows. Default: none (the team's windows only)
    public var teamTenants: [String: String] = [:]
    /// Request bodies larger than this get 413 MessageSizeTooBig. Default: 102,400 bytes
    public var maxMessageBytes: Int
    /// Activity bodies kept for inspection; later activities keep their id and operation only. Default: 100,000
    public var maxRecordedBodies: Int
    /// The app's id in the organisation's app catalog: the only app Microsoft Graph installs for users.
    /// Default: `00000000-0000-0000-0000-00000000a99a`
    public var teamsAppId: String
    /// The scope the token endpoint issues Microsoft Graph tokens for. Default: `https://graph.microsoft.com/.default`
    public var graphScope: String
    /// Tenants whose admin never consented to `TeamsAppInstallation.ReadWriteForUser.All`: every Graph call made
    /// with a token issued for them gets 403 Forbidden. Default: none
    public var graphConsentMissing: Set<String>
    /// Users (AAD object ids) an app permission policy keeps the app from: installing it for them gets 403
    /// Forbidden, "App is blocked by app permission policy", while the tenant's other users install fine.
    /// Default: none
    public var appBlockedByPolicy: Set<String>
    /// The directory Microsoft Graph serves (`GET users/{id | upn}`, `GET users?$filter=` by mail or proxy
    /// address). Default: none
    public var directoryUsers: [DirectoryUser] = []
    /// Per tenant, the directory permissions its admin never granted (`User.Read.All`,
    /// `GroupMember.Read.All`): those calls get 403 `Authorization_RequestDenied`. Default: none
    public var directoryConsentMissing: [String: Set<String>] = [:]
    /// Entra ID groups by id, served by `GET groups/{id}/transitiveMembers/microsoft.graph.user`, paged with
    /// `@odata.nextLink`. A member id that is not in ``directoryUsers`` is an enabled user. Default: none
    public var directoryGroups: [String: DirectoryGroup] = [:]
    /// A user reached through two nested groups is listed once per path, so a client must not count on Graph to
    /// list each user once. Default: false (each user once)
    public var groupsRepeatMembers = false
    /// Each team's channels for `GET v3/teams/{teamId}/conversations` (a nil name is the General channel, as Teams
    /// answers). A team in ``teams`` without an entry has its General channel only, whose id is the team's.
    /// Default: none
    public var teamChannels: [String: [Channel]] = [:]
    /// The bot's messaging endpoint (`http://127.0.0.1:3978/api/messages`): where the emulator, as Teams, posts
    /// installation updates, conversation updates and messages. Default: none (driving the bot answers 409)
    public var botEndpoint: String?
    /// How long the bot has to answer an `adaptiveCard/action` invoke (an Action.Execute click) before the user sees
    /// an error: Teams waits about 5 s. Default: 5 s
    public var invokeTimeout: Duration

    /// How Teams refuses a call for a tenant that moved to another geo.
    public enum MovedTenantAnswer: String, Sendable, Hashable {
        /// 403 `BadArgument`, "User is from different region".
        case forbidden
        /// 400 `BadArgument`, "User is from different region".
        case badRequest
        /// 307 with `Location` at the new geo's serviceUrl.
        case redirect
    }

    public init(
        appId: String,
        appPassword: String,
        scope: String = "https://api.botframework.com/.default",
        tokenLifetime: Duration = .seconds(3600),
        limits: LimitMode = .teams,
        retryAfter: RetryAfterMode = .alternate,
        latency: Duration = .zero,
        faults: Faults = Faults(),
        blocked: [String: BlockShape] = [:],
        notInstalled: Set<String> = [],
        disabledTenants: Set<String> = [],
        removedFromConversations: Set<String> = [],
        gccTenants: Set<String> = [],
        teams: [String: [Member]] = [:],
        maxMessageBytes: Int = 100 * 1024,
        maxRecordedBodies: Int = 100_000,
        teamsAppId: String = "00000000-0000-0000-0000-00000000a99a",
        graphScope: String = "https://graph.microsoft.com/.default",
        graphConsentMissing: Set<String> = [],
        appBlockedByPolicy: Set<String> = [],
        notInstalledWithoutCode: Bool = false,
        graphLag: Duration = .zero,
        botEndpoint: String? = nil,
        invokeTimeout: Duration = .seconds(5)
    ) {
        self.appId = appId
        self.appPassword = appPassword
        self.scope = scope
        self.tokenLifetime = tokenLifetime
        self.limits = limits
        self.retryAfter = retryAfter
        self.latency = latency
        self.faults = faults
        self.blocked = blocked
        self.notInstalled = notInstalled
        self.disabledTenants = disabledTenants
        self.removedFromConversations = removedFromConversations
        self.gccTenants = gccTenants
        self.teams = teams
        self.maxMessageBytes = maxMessageBytes
        self.maxRecordedBodies = maxRecordedBodies
        self.teamsAppId = teamsAppId
        self.graphScope = graphScope
        self.graphConsentMissing = graphConsentMissing
        self.appBlockedByPolicy = appBlockedByPolicy
        self.notInstalledWithoutCode = notInstalledWithoutCode
        self.graphLag = graphLag
        self.botEndpoint = botEndpoint
        self.invokeTimeout = invokeTimeout
    }
}
