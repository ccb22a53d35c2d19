import BotConnector
import Foundation
import Logging
import RateLimiting
import Routing
import Store
import Synchronization

/// Finds people and groups in a tenant's directory (Microsoft Graph) for `user: {email|upn}` and `group:`
/// recipients.
///
/// A person's answer is cached in the store (``HeraldStore/directoryEntry(tenantId:name:)``) for `cacheFor`, a
/// miss for `notFoundCacheFor`, so a stream of events about one person asks Graph once a day, not once per event;
/// concurrent deliveries that need the same person wait for the one lookup in progress. Group pages are read
/// from Graph each time a group is delivered to: membership is what changes most, and a page of 999 users costs
/// one request (see the README's directory section).
///
/// Graph's limits are per app per tenant, so calls start at most `perTenantPerSecond` per tenant across the
/// consumer group (this worker's share of it, ``setShare(_:)``); a 429 holds the tenant back for its
/// `Retry-After` and is retried, as are 503 and 504. A missing permission (403) is believed for the tenant for
/// `consentRecheck`, and logged once: the tenant's other deliveries fail with `DirectoryConsentMissing` without
/// asking Graph again.
public final class DirectoryResolver: Sendable {
    /// What one lookup found, and where.
    public struct Lookup: Sendable {
        /// Nil: nobody in the tenant has the name.
        public var user: GraphClient.DirectoryUser?
        /// Answered from the directory cache, without a Graph request.
        public var fromCache: Bool
        public var resolvedAt: Date
    }

    private struct State {
        var slots: TenantSlots
        /// `tenant/permission` refused, as Graph last said, and until when that answer stands.
        var consent = ConsentRefusals()
    }

    let graph: GraphClient
    let store: any HeraldStore
    let cacheFor: Duration
    let notFoundCacheFor: Duration
    let retry: RetryPolicy
    let consentRecheck: Duration
    private let clock: any WorkerClock
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    private let state: Mutex<State>
    private let lookups = Coalescing<Lookup>()

    public init(
        graph: GraphClient, store: any HeraldStore, cacheFor: Duration = .seconds(86_400),
        notFoundCacheFor: Duration = .seconds(3_600), perTenantPerSecond: Int = 100, retry: RetryPolicy = .graph,
        consentRecheck: Duration = .seconds(60), clock: any WorkerClock = ContinuousClock(),
        wallClock: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.graph = graph
        self.store = store
        self.cacheFor = cacheFor
        self.notFoundCacheFor = notFoundCacheFor
        self.retry = retry
        self.consentRecheck = consentRecheck
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        self.state = Mutex(State(slots: TenantSlots(perSecond: perTenantPerSecond)))
    }

    /// Who `name` is in the tenant: from the cache while it is fresh, else from Graph (and cached).
    public func person(
        _ name: Recipient.PersonName, tenantId: String, useCache: Bool = true
    ) async throws(BotConnectorError) -> Lookup {
        let tenant = tenantId.lowercased()
        let key: String
        switch name {
        case .email(let address): key = DirectoryEntry.key(kind: "email", value: address)
        case .upn(let upn): key = DirectoryEntry.key(kind: "upn", value: upn)
        }
        return try await lookups.value(for: "\(tenant)\u{0}\(key)\u{0}\(useCache)") {
            () async throws(BotConnectorError) -> Lookup in
            try await self.lookUp(name, key: key, tenant: tenant, useCache: useCache)
        }
    }

    private func lookUp(
        _ name: Recipient.PersonName, key: String, tenant: String, useCache: Bool
    ) async throws(BotConnectorError) -> Lookup {
        let now = wallClock()
        if useCache, let cached = await cachedEntry(tenant: tenant, key: key) {
            let fresh = cached.objectId == nil ? notFoundCacheFor : cacheFor
            if now.timeIntervalSince(cached.resolvedAt) < Self.seconds(fresh) {
                let user = cached.objectId.map {
                    GraphClient.DirectoryUser(id: $0, accountEnabled: cached.accountEnabled)
                }
                return Lookup(user: user, fromCache: true, resolvedAt: cached.resolvedAt)
            }
        }
        let graphName: GraphClient.DirectoryName
        switch name {
        case .email(let address): graphName = .email(address)
        case .upn(let upn): graphName = .userPrincipalName(upn)
        }
        let user = try await call(tenant: tenant, permission: "User.Read.All") {
            () async throws(BotConnectorError) -> GraphClient.DirectoryUser? in
            try await self.graph.directoryUser(graphName, tenantId: tenant)
        }
        let resolvedAt = wallClock()
        let entry = DirectoryEntry(
            tenantId: tenant, name: key, objectId: user?.id, accountEnabled: user?.accountEnabled ?? false,
            resolvedAt: resolvedAt)
        do {
            try await store.storeDirectoryEntries([entry])
        } catch {
            // Not fatal: the answer is used now, and asked for again next time.
            logger.warning("could not cache a directory answer", metadata: ["error": "\(error)"])
        }
        return Lookup(user: user, fromCache: false, resolvedAt: resolvedAt)
    }

    private func cachedEntry(tenant: String, key: String) async -> DirectoryEntry? {
        do {
            return try await store.directoryEntry(tenantId: tenant, name: key)
        } catch {
            logger.warning("could not read the directory cache; asking Graph", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// One page of the group's enabled and disabled users (the first when `nextLink` is nil); nil when the
    /// tenant has no such group.
    public func groupPage(
        groupId: String, tenantId: String, nextLink: String?, pageSize: Int = 999
    ) async throws(BotConnectorError) -> GraphClient.GroupMembersPage? {
        let tenant = tenantId.lowercased()
        return try await call(tenant: tenant, permission: "GroupMember.Read.All") {
            () async throws(BotConnectorError) -> GraphClient.GroupMembersPage? in
            try await self.graph.groupMembersPage(
                groupId: groupId, tenantId: tenant, nextLink: nextLink, pageSize: pageSize)
        }
    }

    /// Sets this worker's share of the group's work (k of n partitions: k/n).
    func setShare(_ share: Double) {
        state.withLock { $0.slots.share = min(1, max(share, 0.01)) }
    }

    /// One Graph call in the tenant's budget: a missing consent still believed fails at once; 429, 503 and 504
    /// are retried after their `Retry-After` (a 429 holding back the tenant's other calls too).
    private func call<T>(
        tenant: String, permission: String, _ body: () async throws(BotConnectorError) -> T
    ) async throws(BotConnectorError) -> T {
        let consentKey = tenant + "/" + permission
        let asked = clock.now
        if let refused = state.withLock({ $0.consent.standing(consentKey, now: asked) }) { throw refused }
        var attempt = 0
        while true {
            attempt += 1
            let now = clock.now
            let start = state.withLock { $0.slots.take(tenant, now: now) }
            if start > now { try? await clock.sleep(for: start - now) }
            do throws(BotConnectorError) {
                return try await body()
            } catch {
                if error.code == .directoryConsentMissing {
                    consentRefused(error, key: consentKey, tenant: tenant, permission: permission)
                    throw error
                }
                guard error.isRetryable, retry.allowsRetry(afterFailures: attempt), !Task.isCancelled else {
                    throw error
                }
                let wait = retry.delay(afterFailures: attempt, retryAfter: error.retryAfter)
                if error.code == .throttled {
                    let until = clock.now + wait
                    state.withLock { $0.slots.hold(tenant, until: until) }
                }
                try? await clock.sleep(for: wait)
            }
        }
    }

    private func consentRefused(_ error: BotConnectorError, key: String, tenant: String, permission: String) {
        let until = clock.now + consentRecheck
        let firstTime = state.withLock { $0.consent.refused(key, error, until: until) }
        guard firstTime else { return }
        logger.error(
            "Microsoft Graph refused to read the directory: the tenant has not granted \(permission)",
            metadata: ["tenantId": "\(tenant)", "permission": "\(permission)"])
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
