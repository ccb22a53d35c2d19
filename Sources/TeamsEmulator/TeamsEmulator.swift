import HeraldHTTP
import Logging
import NIOCore
import ServiceLifecycle

/// A real HTTP server that behaves like Teams' Bot Connector for the calls Herald makes: token
/// endpoint, conversations, activities, paged members, Teams' rate limits, blocked recipients and
/// injected faults, plus an inspection API (`/emulator/...`) for tests and the demo.
///
/// It also serves the Microsoft Graph calls of proactive app installation under ``graphURL``: installing the
/// app for a user (`POST /v1.0/users/{id}/teamwork/installedApps`), finding the installation, and the 1:1 chat it
/// opened (the conversation a Bot Connector create for the user returns). Graph wants a token issued for
/// `graphScope` at ``tokenURL(tenant:)``; the tenant of that URL is the one whose consent counts.
///
/// It is also Teams' side of the conversation with the bot: it posts installation updates, conversation updates
/// and messages to the bot's messaging endpoint (``EmulatorConfiguration/botEndpoint``) with Bot Framework
/// bearer tokens (``botToken(_:serviceUrl:)``), signed by keys it publishes as OpenID metadata at
/// ``openIdMetadataURL``. See ``install(_:)``, ``message(_:)`` and ``post(activity:token:serviceUrlClaim:)``. It
/// presses the buttons of the cards the bot sent (``click(_:)``): Action.Execute invokes whose answers replace the
/// card or show a message or an error, and Action.Submit messages.
///
/// `bind` opens the port (0 picks a free one); `run` serves until cancelled or ``shutdown()``. The signing keys
/// are generated when first needed (the JWKS, a token) and kept for the emulator's lifetime.
public final class TeamsEmulator: Service, Sendable {
    let core: EmulatorCore
    private let server: HTTPServer

    private init(core: EmulatorCore, server: HTTPServer) {
        self.core = core
        self.server = server
    }

    /// Opens the listening socket.
    /// - Parameter now: the clock for token expiry and rate-limit windows. Default: `ContinuousClock.now`
    public static func bind(
        configuration: EmulatorConfiguration,
        host: String = "127.0.0.1",
        port: Int = 0,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) async throws -> TeamsEmulator {
        let core = EmulatorCore(configuration: configuration, logger: logger, now: now)
        let server = try await HTTPServer.bind(
            // Response headers are the emulator's own (ids, digits, fixed names): no outside input.
            configuration: .init(host: host, port: port, validatesResponseHeaders: false),
            logger: logger,
            onUnanswered: { core.state.withLock { $0.stats.unanswered += 1 } },
            handler: { request in await core.handle(request) }
        )
        let emulator = TeamsEmulator(core: core, server: server)
        core.origin.withLock { $0 = emulator.origin }
        return emulator
    }

    /// Serves until cancelled, ``shutdown()``, or a graceful shutdown of the service group; then shuts down the
    /// client that posts to the bot.
    public func run() async throws {
        do {
            try await self.server.run()
        } catch {
            await self.core.botEndpoint.shutdown()
            throw error
        }
        await self.core.botEndpoint.shutdown()
    }

    /// Stops accepting and closes connections once their current answer is written.
    public func shutdown() {
        self.server.shutdown()
    }

    /// The port the emulator listens on.
    public var port: Int { self.server.port }

    /// `http://HOST:PORT`: the entry for `allowedServiceHosts`.
    public var origin: String {
        let host = self.server.host.contains(":") ? "[\(self.server.host)]" : self.server.host
        return "http://\(host):\(self.port)"
    }

    /// A serviceUrl served by the emulator, with Teams' usual `/teams/` prefix (any prefix works).
    public var serviceUrl: String { "\(self.origin)/teams/" }

    /// The token endpoint for multi-tenant bots (any tenant segment works).
    public var tokenURL: String { "\(self.origin)/botframework.com/oauth2/v2.0/token" }

    /// The token endpoint of one tenant: Graph tokens are issued per tenant.
    public func tokenURL(tenant: String) -> String { "\(self.origin)/\(tenant)/oauth2/v2.0/token" }

    /// Microsoft Graph's base URL, without the version (`https://graph.microsoft.com` in the public cloud): calls
    /// go to `{graphURL}/v1.0/...`.
    public var graphURL: String { "\(self.origin)/graph" }

    /// Counters of what was served so far.
    public func stats() -> EmulatorStats {
        self.core.state.withLock { $0.stats }
    }

    /// Every conversation, in creation order, with what it received.
    public func conversations() -> [EmulatedConversation] {
        self.core.state.withLock { state in state.conversationOrder.compactMap { state.conversations[$0]?.conversation }
        }
    }

    /// The apps installed through Microsoft Graph, by user id.
    public func graphInstallations() -> [GraphInstallation] {
        self.core.state.withLock { $0.graphInstallations() }
    }

    /// One conversation by id.
    public func conversation(_ id: String) -> EmulatedConversation? {
        self.core.state.withLock { $0.conversations[id]?.conversation }
    }

    /// The configuration in force.
    public var configuration: EmulatorConfiguration {
        self.core.state.withLock { $0.configuration }
    }

    /// Changes the configuration at run time (faults, blocked users, rosters, limits ...).
    public func updateConfiguration(_ change: (inout EmulatorConfiguration) -> Void) {
        self.core.state.withLock { state in
            var configuration = state.configuration
            change(&configuration)
            state.update(configuration)
        }
    }
}
