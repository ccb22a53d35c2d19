extension BotConnectorClient {
    /// Everything the client needs to know about the bot and its cloud.
    public struct Configuration: Sendable {
        /// The bot's Microsoft App ID (client id).
        public var appId: String
        /// The bot's client secret. Never logged.
        public var appPassword: String
        /// The tenant of a single-tenant bot. Default: `botframework.com` (multi-tenant)
        public var tenantId: String
        /// The cloud, which supplies the defaults below. Default: `.public`
        public var cloud: Cloud
        /// Overrides the cloud's token endpoint. Default: nil
        public var tokenURL: String?
        /// Overrides the cloud's token scope. Default: nil
        public var scope: String?
        /// Overrides the cloud's global service URL. Default: nil
        public var defaultServiceUrl: String?
        /// Where a call Teams refuses with `InvalidBotApiHost` (a GCC tenant reached through another cloud's host)
        /// is retried once, whatever ``cloud`` says. Default: nil (the GCC cloud's global service URL, or
        /// ``defaultServiceUrl`` when ``cloud`` is GCC)
        public var gccServiceUrl: String?
        /// Service hosts allowed besides the cloud's Teams hosts: `host` or `host:port` (https only), or
        /// `http://host:port` to allow plain http to exactly that address (the emulator). Default: []
        public var allowedServiceHosts: [String]
        /// Time allowed for one API call, connection included. Default: 30 s
        public var requestTimeout: Duration
        /// Time allowed to open a connection (a refused connection is retried until then). Default: 10 s
        public var connectTimeout: Duration
        /// Time allowed to obtain a token. Default: 30 s
        public var tokenTimeout: Duration
        /// A token is refreshed this long before it expires (at most half its lifetime). Default: 5 min
        public var tokenRefreshMargin: Duration
        /// Activities larger than this, counted as Teams counts them (UTF-16, base64 images left out: see
        /// `TeamsMessageSize`), are refused before sending. Default: 102,400 bytes
        public var maxActivityBytes: Int

        public init(
            appId: String,
            appPassword: String,
            tenantId: String = "botframework.com",
            cloud: Cloud = .public,
            tokenURL: String? = nil,
            scope: String? = nil,
            defaultServiceUrl: String? = nil,
            allowedServiceHosts: [String] = [],
            requestTimeout: Duration = .seconds(30),
            connectTimeout: Duration = .seconds(10),
            tokenTimeout: Duration = .seconds(30),
            tokenRefreshMargin: Duration = .seconds(300),
            maxActivityBytes: Int = 100 * 1024
        ) {
            self.appId = appId
            self.appPassword = appPassword
            self.tenantId = tenantId
            self.cloud = cloud
            self.tokenURL = tokenURL
            self.scope = scope
            self.defaultServiceUrl = defaultServiceUrl
            self.allowedServiceHosts = allowedServiceHosts
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.tokenTimeout = tokenTimeout
            self.tokenRefreshMargin = tokenRefreshMargin
            self.maxActivityBytes = maxActivityBytes
            self.gccServiceUrl = nil
        }

        /// The token endpoint in effect.
        public var effectiveTokenURL: String {
            if let url = self.tokenURL, !url.isEmpty { return url }
            return self.cloud.tokenURL(tenantId: self.tenantId)
        }

        /// The scope in effect.
        public var effectiveScope: String {
            if let scope = self.scope, !scope.isEmpty { return scope }
            return self.cloud.scope
        }

        /// The GCC service URL in effect, for the `InvalidBotApiHost` retry.
        public var effectiveGCCServiceUrl: String {
            if let url = self.gccServiceUrl, !url.isEmpty { return url }
            return self.cloud == .gcc ? self.effectiveDefaultServiceUrl : Cloud.gcc.defaultServiceUrl
        }

        /// The global service URL in effect.
        public var effectiveDefaultServiceUrl: String {
            if let url = self.defaultServiceUrl, !url.isEmpty { return url }
            return self.cloud.defaultServiceUrl
        }
    }
}
