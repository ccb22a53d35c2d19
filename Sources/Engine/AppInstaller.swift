import BotConnector
import Logging
import RateLimiting
import Synchronization

/// Installs the Teams app for users who never installed it (Microsoft Graph), and finds the 1:1 chat the
/// installation opened, so a notification can reach anyone in the tenant.
///
/// One installation per user at a time: concurrent deliveries for the same new user wait for the one in
/// progress (a thousand events for one new user install once). Installations start at most
/// `perTenantPerSecond` per tenant. Each Graph call's 429 and 503 are retried after their `Retry-After` (or a
/// backoff), as its retry policy allows; a missing consent (403) is logged once per tenant and fails the delivery with
/// `GraphConsentMissing`, and for `consentRecheck` after it the tenant's other new users fail the same way
/// without asking Graph again (nor queueing for an installation slot). An app permission policy that blocks the
/// app for one user (403 "App is blocked by app permission policy") fails only that user's deliveries, with
/// `AppInstallBlocked`: the tenant's other users are still installed for.
final class AppInstaller: Sendable {
    /// The chat to send to, and whether this call installed the app.
    struct Installation: Sendable {
        var chatId: String
        var installed: Bool
    }

    private struct State {
        var inProgress: [String: Task<Installation, any Error>] = [:]
        /// When each tenant may start its next installation.
        var nextStart: [String: ContinuousClock.Instant] = [:]
        var consentReported: Set<String> = []
        /// Tenants whose admin has not consented, as Graph last said, and until when that answer stands.
        var consentMissing: [String: (until: ContinuousClock.Instant, error: BotConnectorError)] = [:]
    }

    let graph: GraphClient
    let teamsAppId: String
    let perTenantPerSecond: Int
    let retry: RetryPolicy
    let consentRecheck: Duration
    private let clock: any WorkerClock
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - consentRecheck: how long a tenant's missing consent is believed before Graph is asked again (an admin
    ///     may grant it meanwhile). Default: 60 s
    ///   - clock: the time of `consentRecheck`, the tenant's installation slots and retry waits.
    init(
        graph: GraphClient, teamsAppId: String, perTenantPerSecond: Int, retry: RetryPolicy = .graph,
        consentRecheck: Duration = .seconds(60),
        clock: any WorkerClock = ContinuousClock(), logger: Logger
    ) {
        self.graph = graph
        self.teamsAppId = teamsAppId
        self.perTenantPerSecond = max(1, perTenantPerSecond)
        self.retry = retry
        self.consentRecheck = consentRecheck
        self.clock = clock
        self.logger = logger
    }

    /// The chat id for the user (AAD object id) in `tenantId`, installing the app first when needed.
    func chat(userId: String, tenantId: String) async throws(BotConnectorError) -> Installation {
        let key = "\(tenantId.lowercased())/\(userId.lowercased())"
        let task = state.withLock { state in
            if let running = state.inProgress[key] { return running }
            let task = Task { try await self.install(userId: userId, tenantId: tenantId) }
            state.inProgress[key] = task
            return task
        }
        let result = await task.result
        state.withLock { state in
            if state.inProgress[key] == task { state.inProgress[key] = nil }
        }
        switch result {
        case .success(let installation): return installation
        case .failure(let error as BotConnectorError): throw error
        case .failure(let error): throw BotConnectorError(code: .connection, message: "\(error)")
        }
    }

    private func install(userId: String, tenantId: String) async throws(BotConnectorError) -> Installation {
        if let refusal = consentStillMissing(tenantId) { throw refusal }
        do throws(BotConnectorError) {
            await waitForTenantSlot(tenantId)
            let installed = try await retrying { () async throws(BotConnectorError) -> Bool in
                try await self.graph.installApp(teamsAppId: self.teamsAppId, userId: userId, tenantId: tenantId)
            }
            let found = try await retrying { () async throws(BotConnectorError) -> String? in
                try await self.graph.installationId(teamsAppId: self.teamsAppId, userId: userId, tenantId: tenantId)
            }
            guard let installation = found else {
                throw BotConnectorError(
                    code: .notFound, httpStatus: 404,
                    message: "Graph lists no installation of the app after installing it")
            }
            let chat = try await retrying { () async throws(BotConnectorError) -> String in
                try await self.graph.chatId(userId: userId, installationId: installation, tenantId: tenantId)
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
        let tenant = tenantId.lowercased()
        return state.withLock { state in
            guard let refusal = state.consentMissing[tenant] else { return nil }
            if clock.now < refusal.until { return refusal.error }
            state.consentMissing[tenant] = nil
            return nil
        }
    }

    /// Remembers the tenant's missing consent for `consentRecheck`, and logs it the first time.
    private func consentRefused(_ error: BotConnectorError, tenantId: String) {
        let until = clock.now + consentRecheck
        let firstTime = state.withLock { state in
            state.consentMissing[tenantId.lowercased()] = (until, error)
            return state.consentReported.insert(tenantId.lowercased()).inserted
        }
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

    /// Spaces installation starts of one tenant `1 / perTenantPerSecond` apart.
    private func waitForTenantSlot(_ tenantId: String) async {
        let interval = Duration.seconds(1) / perTenantPerSecond
        let now = clock.now
        let start = state.withLock { state in
            let start = max(now, state.nextStart[tenantId.lowercased()] ?? now)
            state.nextStart[tenantId.lowercased()] = start + interval
            return start
        }
        if start > now { try? await clock.sleep(for: start - now) }
    }
}
