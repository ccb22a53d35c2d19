/// The Microsoft cloud a bot lives in: it decides the token endpoint, the token scope, the global
/// service URL and which Teams service hosts may receive the bearer token.
public enum Cloud: String, Sendable, Hashable, CaseIterable {
    case `public`
    /// Government Community Cloud (moderate): public login, GCC service host.
    case gcc
    /// GCC High.
    case gcch
    /// Department of Defense.
    case dod

    /// The token endpoint for `tenantId` (`botframework.com` for multi-tenant bots).
    public func tokenURL(tenantId: String) -> String {
        switch self {
        case .public, .gcc:
            return "https://login.microsoftonline.com/\(tenantId)/oauth2/v2.0/token"
        case .gcch, .dod:
            return "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us/oauth2/v2.0/token"
        }
    }

    /// The OAuth2 scope of Bot Connector tokens.
    public var scope: String {
        switch self {
        case .public, .gcc: return "https://api.botframework.com/.default"
        case .gcch, .dod: return "https://api.botframework.us/.default"
        }
    }

    /// The global service URL, used when no serviceUrl is stored for a conversation.
    public var defaultServiceUrl: String {
        switch self {
        case .public: return "https://smba.trafficmanager.net/teams/"
        case .gcc: return "https://smba.infra.gcc.teams.microsoft.com/teams"
        case .gcch: return "https://smba.infra.gov.teams.microsoft.us/teams"
        case .dod: return "https://smba.infra.dod.teams.microsoft.us/teams"
        }
    }

    /// The Teams service hosts that may receive the bearer token (always over https).
    /// GCC includes the public host: a GCC tenant can be reached there first (`InvalidBotApiHost`).
    public var teamsServiceHosts: [String] {
        switch self {
        // A public-cloud bot can have GCC tenants: their calls are retried on the GCC host (InvalidBotApiHost).
        case .public: return ["smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com"]
        case .gcc: return ["smba.infra.gcc.teams.microsoft.com", "smba.trafficmanager.net"]
        case .gcch: return ["smba.infra.gov.teams.microsoft.us"]
        case .dod: return ["smba.infra.dod.teams.microsoft.us"]
        }
    }

    /// The sign-in host of the cloud's Entra ID (tokens for Microsoft Graph are issued per tenant there).
    public var loginURL: String {
        switch self {
        case .public, .gcc: return "https://login.microsoftonline.com"
        case .gcch, .dod: return "https://login.microsoftonline.us"
        }
    }

    /// The cloud's Microsoft Graph endpoint (without the version).
    public var graphURL: String {
        switch self {
        case .public, .gcc: return "https://graph.microsoft.com"
        case .gcch: return "https://graph.microsoft.us"
        case .dod: return "https://dod-graph.microsoft.us"
        }
    }
}
