import BotConnector
import Logging
import RateLimiting
import Synchronization

/// Installs the Teams app for users who never installed it (Microsoft Graph), and finds the 1:1 chat the
/// installation opened, so a notification can reach anyone in the tenant.
///
/// One installation per user at a time: concurrent deliveries for the same new user wait for the one in
/// progress (a thousand events for one new user install once). Installations start at most
/// `perTenantPerSecond` per tenant across the consumer group (this worker's share of it, ``setShare(_:)``).
/// Each Graph call's 429 and 503 are retried after their `Retry-After` (or a
/// backoff), as its retry policy allows; a missing consent (403) is logged once per tenant and fails the delivery with
/// `GraphConsentMissing`, and for `consentRecheck` after it the tenant's other new users fail the same way
/// without asking Graph again (nor queueing for an installation slot). An app permission policy that blocks the
/// app for one user (403 "App is blocked by app permission policy") fails only that user's deliveries, with
/// `AppInstallBlocked`: the tenant's other users are still installed for. Graph is eventually consistent: right
/// after an installation its listing can be empty and its chat 404, so both are looked up again with backoff for
/// up to `settleWithin` before the installation counts as missing.
final class AppInstaller: Sendable {
    /// The chat to send to, and whether this call installed the app.
    struct Installation: Sendable {
        var chatId: String
        var installed: Bool
    }

    private struct State {
        /// When each tenant may start its next installation.
        var slots: TenantSlots
        /// Tenants whose admin has not consented, as Graph last said, and until when that answer stands.
        var consent = ConsentRefusals()
    }

    let graph: GraphClient
    let teamsAppId: String
    let perTenantPerSecond: Int
    let retry: RetryPolicy
    let consentRecheck: Duration
    let settleWithin: Duration
    private let clock: any WorkerClock
    private let logger: Logger
    private let state: Mutex<State>
    private let installations = Coalescing<Installation>()

    /// - Parameters:
    ///   - consentRecheck: how long a tenant's missing consent is believed before Graph is asked again (an admin
    ///     may grant it meanwhile). Default: 60 s
    ///   - settleWithin: how long an installation Graph does not show yet (empty listing, chat 404) is looked up
    ///     again before it counts as missing. Default: 30 s
    ///   - clock: the time of `consentRecheck`, the tenant's installation slots and retry waits.
    init(
        graph: GraphClient, teamsAppId: String, perTenantPerSecond: Int, retry: RetryPolicy = .graph,
        consentRecheck: Duration = .seconds(60), settleWithin: Duration = .seconds(30),
        clock: any WorkerClock = ContinuousClock(), logger: Logger
    ) {
        self.graph = graph
        self.teamsAppId = teamsAppId
        self.perTenantPerSecond = max(1, perTenantPerSecond)
        self.state = Mutex(State(slots: TenantSlots(perSecond: perTenantPerSecond)))
        self.retry = retry
        self.consentRecheck = consentRecheck
        self.settleWithin = settleWithin
        self.clock = clock
        self.logger = logger
    }

    /// The chat id for the user (AAD object id) in `tenantId`, installing the app first when needed.
    func chat(userId: String, tenantId: String) async throws(BotConnectorError) -> Installation {
        try await installations.value(for: "\(tenantId.lowercased())/\(userId.lowercased())") {
            () async throws(BotConnectorError) -> Installation in
            try await self.install(userId: userId, tenantId: tenantId)
        }
    }

    private func install(userId: String, tenantId: String) async throws(BotConnectorError) -> Installation {
        if let refusal = consentStillMissing(tenantId) { throw refusal }
        do throws(BotConnectorError) {
            await waitForTenantSlot(tenantId)
            let installed = try await retrying { () async throws(BotConnectorError) -> Bool in
                try await self.graph.installApp(teamsAppId: self.teamsAppId, userId: userId, tenantId: tenantId)
            }
            let deadline = clock.now + settleWithin
            let installation = try await settling(until: deadline) { () async throws(BotConnectorError) -> String in
                let found = try await self.retrying { () async throws(BotConnectorError) -> String? in
                    try await self.graph.installationId(
                        teamsAppId: self.teamsAppId, userId: userId, tenantId: tenantId)
                }
                guard let found else {
                    throw BotConnectorError(
                        code: .notFound, httpStatus: 404,
                        message: "Graph lists no installation of the app after installing it")
                }
                return found
            }
            let chat = try await settling(until: deadline) { () async throws(BotConnectorError) -> String in
                try await self.retrying { () async throws(BotConnectorError) -> String in
                    try await self.graph.chatId(userId: userId, installationId: installation, tenantId: tenantId)
                }
            }
            if installed { logger.debug("installed the app for a user", metadata: ["tenantId": "\(tenantId)"]) }
            return Installation(chatId: chat, installed: installed)
        } catch {
            if error.code == .graphConsentMissing { consentRefused(error, tenantId: tenantId) }
            throw error
        }
    }

    /// The tenant's consent refusal, while it is younger than `consentRecheck`.
    private func consentStillMissing(_ tenantId: String) -> BotConnectorError? {
        let now = clock.now
        return state.withLock { $0.consent.standing(tenantId.lowercased(), now: now) }
    }

    /// Remembers the tenant's missing consent for `consentRecheck`, and logs it the first time.
    private func consentRefused(_ error: BotConnectorError, tenantId: String) {
        let until = clock.now + consentRecheck
        let firstTime = state.withLock { $0.consent.refused(tenantId.lowercased(), error, until: until) }
        guard firstTime else { return }
        logger.error(
            """
            Microsoft Graph refused to install the app: the tenant has not granted \
            TeamsAppInstallation.ReadWriteForUser.All; deliveries to its users without the app fail \
            with GraphConsentMissing
            """,
            metadata: ["tenantId": "\(tenantId)"])
    }

    /// Runs one Graph call, retrying 429, 503 and other retryable failures after their `Retry-After` (or a
    /// backoff), as `retry` allows.
    private func retrying<T>(
        _ call: () async throws(BotConnectorError) -> T
    ) async throws(BotConnectorError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            do throws(BotConnectorError) {
                return try await call()
            } catch {
                guard error.isRetryable, retry.allowsRetry(afterFailures: attempt), !Task.isCancelled else {
                    throw error
                }
                try? await clock.sleep(for: retry.delay(afterFailures: attempt, retryAfter: error.retryAfter))
            }
        }
    }

    /// Runs a Graph read that can miss an installation made moments ago: a 404 is asked again with backoff
    /// (250 ms growing to 4 s) until `deadline`, then it stands.
    private func settling<T>(
        until deadline: ContinuousClock.Instant, _ read: () async throws(BotConnectorError) -> T
    ) async throws(BotConnectorError) -> T {
        var misses = 0
        while true {
            do throws(BotConnectorError) {
                return try await read()
            } catch {
                misses += 1
                let wait = RetryPolicy.graphSettling.delay(afterFailures: misses)
                guard error.code == .notFound, clock.now + wait < deadline, !Task.isCancelled else {
                    if error.code == .notFound {
                        // Said even after one look: under load the first read can already end past the deadline.
                        var late = error
                        let times = misses == 1 ? "once" : "\(misses) times"
                        late.message += " (looked up \(times) within \(settleWithin))"
                        throw late
                    }
                    throw error
                }
                try? await clock.sleep(for: wait)
            }
        }
    }

    /// Sets this worker's share of the group's work (k of n partitions: k/n): `perTenantPerSecond` is for the
    /// whole group, as the Bot Connector budget is, so ten workers together install no faster than one alone.
    func setShare(_ share: Double) {
        state.withLock { $0.slots.share = min(1, max(share, 0.01)) }
    }

    /// Spaces installation starts of one tenant `1 / (perTenantPerSecond × share)` apart.
    private func waitForTenantSlot(_ tenantId: String) async {
        let now = clock.now
        let start = state.withLock { $0.slots.take(tenantId.lowercased(), now: now) }
        if start > now { try? await clock.sleep(for: start - now) }
    }
}
