import AsyncHTTPClient
import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Obtains and caches Bot Connector access tokens (OAuth2 client credentials).
///
/// However many callers ask at once, at most one token request is in flight; the token is refreshed
/// ahead of its expiry, and ``invalidate(_:)`` (after a 401) makes the next caller fetch a new one.
public final class TokenProvider: Sendable {
    /// The token endpoint and credentials.
    public struct Configuration: Sendable {
        /// The token endpoint (`.../oauth2/v2.0/token`).
        public var tokenURL: String
        /// The bot's app id.
        public var clientId: String
        /// The bot's secret. Never logged.
        public var clientSecret: String
        /// The scope (`https://api.botframework.com/.default`).
        public var scope: String
        /// Refresh this long before expiry, at most half the token's lifetime. Default: 5 min
        public var refreshMargin: Duration
        /// Time allowed for the token request. Default: 30 s
        public var timeout: Duration

        public init(
            tokenURL: String,
            clientId: String,
            clientSecret: String,
            scope: String,
            refreshMargin: Duration = .seconds(300),
            timeout: Duration = .seconds(30)
        ) {
            self.tokenURL = tokenURL
            self.clientId = clientId
            self.clientSecret = clientSecret
            self.scope = scope
            self.refreshMargin = refreshMargin
            self.timeout = timeout
        }
    }

    let configuration: Configuration
    let httpClient: HTTPClient
    private let now: @Sendable () -> ContinuousClock.Instant
    let logger: Logger
    private let state = Mutex(StateMachine<CheckedContinuation<Acquired, any Error>>())

    /// - Parameters:
    ///   - httpClient: should not follow redirects (the request carries the client secret);
    ///     ``BotConnectorClient`` passes its own, which does not.
    ///   - now: the clock deciding expiry. Default: `ContinuousClock.now`
    public init(
        configuration: Configuration,
        httpClient: HTTPClient,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
    }

    /// A valid access token, fetching one if none is cached or the cached one is due for refresh.
    public func token() async throws(BotConnectorError) -> String {
        let now = self.now()
        if let token = self.state.withLock({ $0.freshToken(now: now) }) { return token }
        let acquired: Acquired
        do {
            acquired = try await withCheckedThrowingContinuation { continuation in
                let action = self.state.withLock { $0.acquire(now: now, waiter: continuation) }
                if case .resume(let acquired) = action { continuation.resume(returning: acquired) }
            }
        } catch let error as BotConnectorError {
            throw error
        } catch {
            throw BotConnectorError(code: .tokenRequestFailed, message: "token request failed: \(error)")
        }
        switch acquired {
        case .token(let token):
            return token
        case .fetch:
            do {
                let (token, lifetime) = try await self.requestToken()
                let margin = min(self.configuration.refreshMargin, lifetime / 2)
                let refreshAt = now + lifetime - margin
                Self.refreshes.success.increment()
                let waiters = self.state.withLock { $0.fetched(token: token, refreshAt: refreshAt) }
                for waiter in waiters { waiter.resume(returning: .token(token)) }
                return token
            } catch {
                Self.refreshes.failure.increment()
                let waiters = self.state.withLock { $0.failed() }
                for waiter in waiters { waiter.resume(throwing: error) }
                throw error
            }
        }
    }

    /// `herald_token_refreshes_total{result}`: token requests, by result.
    private static var refreshes: (success: Counter, failure: Counter) {
        (
            Counter(label: "herald_token_refreshes_total", dimensions: [("result", "success")]),
            Counter(label: "herald_token_refreshes_total", dimensions: [("result", "failure")])
        )
    }

    /// Forgets `token` when it is still the cached one, so the next ``token()`` fetches a new one.
    public func invalidate(_ token: String) {
        self.state.withLock { $0.invalidate(token) }
    }
}
