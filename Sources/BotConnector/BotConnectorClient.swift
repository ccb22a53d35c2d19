import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The Bot Connector REST API v3 client: creates conversations, sends, updates and deletes activities,
/// and lists members, over pooled keep-alive connections.
///
/// Every call first checks the serviceUrl against the allow-list (nothing is sent to any other host,
/// so the bearer token cannot leak), then sends with a cached token; a 401 refreshes the token once
/// and retries once. Failures are thrown as ``BotConnectorError``. The client does not retry anything
/// else: backoff belongs to the caller, which sees ``BotConnectorError/isRetryable``.
///
/// Call ``shutdown()`` when done.
public final class BotConnectorClient: Sendable {
    public let configuration: Configuration
    /// The token cache, shared by every call of this client.
    public let tokens: TokenProvider
    let httpClient: HTTPClient
    let allowList: ServiceHostAllowList
    let botId: String
    let logger: Logger
    let wallClock: @Sendable () -> Double
    /// Service URLs already parsed and allowed: every send resolves one, and parsing costs more than the lookup.
    let resolvedServiceUrls = Mutex<[String: ServiceUrl]>([:])

    /// - Parameters:
    ///   - maxConnectionsPerHost: pooled keep-alive connections per service host. Default: 64
    ///   - now: the clock for token expiry. Default: `ContinuousClock.now`
    public init(
        configuration: Configuration,
        maxConnectionsPerHost: Int = 64,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        var httpConfiguration = HTTPClient.Configuration()
        // A redirect could carry the Authorization header to a host outside the allow-list.
        httpConfiguration.redirectConfiguration = .disallow
        // No tracer: with one bootstrapped or not, the client would otherwise build span attributes for every
        // request (parsing its URL again), about a tenth of a send's CPU.
        httpConfiguration.tracing.tracer = nil
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnectionsPerHost
        )
        httpConfiguration.timeout = .init(connect: TimeAmount(configuration.connectTimeout))
        self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
        self.configuration = configuration
        self.allowList = ServiceHostAllowList(cloud: configuration.cloud, extras: configuration.allowedServiceHosts)
        self.botId = "28:\(configuration.appId)"
        var logger = logger
        logger[metadataKey: "bot.appId"] = "\(configuration.appId)"
        self.logger = logger
        self.wallClock = { Date().timeIntervalSince1970 }
        self.tokens = TokenProvider(
            configuration: .init(
                tokenURL: configuration.effectiveTokenURL,
                clientId: configuration.appId,
                clientSecret: configuration.appPassword,
                scope: configuration.effectiveScope,
                refreshMargin: configuration.tokenRefreshMargin,
                timeout: configuration.tokenTimeout
            ),
            httpClient: self.httpClient,
            logger: logger,
            now: now
        )
        for entry in self.allowList.invalidEntries {
            logger.warning("ignoring an allowedServiceHosts entry that is not a host", metadata: ["entry": "\(entry)"])
        }
    }

    /// Closes the pooled connections.
    public func shutdown() async throws {
        try await self.httpClient.shutdown()
    }

    /// Parses `serviceUrl` (the configured default when nil or empty) and checks it against the
    /// allow-list. Throws `serviceUrlNotAllowed` or `invalidServiceUrl`.
    public func resolveServiceUrl(_ serviceUrl: String?) throws(BotConnectorError) -> ServiceUrl {
        let text = (serviceUrl?.isEmpty ?? true) ? self.configuration.effectiveDefaultServiceUrl : serviceUrl!
        if let url = self.resolvedServiceUrls.withLock({ $0[text] }) { return url }
        let url = try ServiceUrl(text)
        guard self.allowList.allows(url) else {
            throw BotConnectorError(
                code: .serviceUrlNotAllowed,
                message: "serviceUrl host \(url.host):\(url.port) (\(url.scheme)) is not an allowed Teams service host"
            )
        }
        self.resolvedServiceUrls.withLock { resolved in
            // A handful of regional hosts in practice; the bound keeps hostile references from growing it.
            if resolved.count >= 64 { resolved.removeAll(keepingCapacity: true) }
            resolved[text] = url
        }
        return url
    }
}
