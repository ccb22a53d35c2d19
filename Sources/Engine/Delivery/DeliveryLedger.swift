import Foundation
import Store

/// The delivery engine's view of the ledger for one worker: single-delivery calls that are coalesced, while
/// many are in flight, into batched store calls (one statement or transaction per batch).
///
/// One worker should not have the same delivery id in flight twice: two concurrent `claim`s of one id from
/// the same worker land in one batch and both return `.claimed`.
public final class DeliveryLedger: Sendable {
    public let store: any HeraldStore
    /// This worker's id, recorded as `claimedBy`.
    public let worker: String
    /// How long a claim holds; a killed worker's claims are claimable by others after it. Default: 5 min.
    public let lease: Duration

    private let claims: Batcher<String, ClaimResult>
    private let claimsWithReads: Batcher<ClaimWithReads, ClaimAnswer>
    private let sending: Batcher<String, Void>
    private let sent: Batcher<SentDelivery, Void>
    private let published: Batcher<PublishedOutcome, Void>
    private let releases: Batcher<String, Void>
    private let deferrals: Batcher<DeferredDelivery, Void>
    private let completions: Batcher<String, Void>
    private let joins: Batcher<DigestJoin, DigestJoined>
    /// The wall clock the ledger's times come from.
    private let now: @Sendable () -> Date

    public init(
        store: any HeraldStore, worker: String, lease: Duration = .seconds(300), maxBatchSize: Int = 1000,
        maxConcurrentBatches: Int = 2, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.worker = worker
        self.lease = lease
        self.now = now
        claims = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { ids in
            let at = now()
            let results = try await store.claim(ids, worker: worker, lease: lease, now: at)
            return ids.map { results[$0] ?? .claimedByOther(worker: "", until: at) }
        }
        claimsWithReads = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) {
            requests in
            try await Self.claim(requests, in: store, worker: worker, lease: lease, now: now())
        }
        sending = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { ids in
            try await store.markSending(ids, worker: worker, now: now())
            return ids.map { _ in () }
        }
        sent = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { deliveries in
            try await store.markSent(deliveries, now: now())
            return deliveries.map { _ in () }
        }
        published = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { outcomes in
            try await store.markOutcomePublished(outcomes, now: now())
            return outcomes.map { _ in () }
        }
        releases = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { ids in
            try await store.release(ids, worker: worker, now: now())
            return ids.map { _ in () }
        }
        deferrals = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { deliveries in
            try await store.addDeferred(deliveries)
            return deliveries.map { _ in () }
        }
        completions = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { ids in
            try await store.completeDeferred(ids)
            return ids.map { _ in () }
        }
        // One batch at a time: joins of one group must reach the store in the order they were made.
        joins = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: 1) { joins in
            try await store.joinDigests(joins, now: now())
        }
    }

    public func claim(_ deliveryId: String) async throws -> ClaimResult {
        try await claims.submit(deliveryId)
    }

    /// Claims a delivery and, once it is claimed, makes the reads its delivery makes next (``ClaimWithReads``):
    /// one wait for the three answers instead of three, batched with other deliveries' claims.
    public func claim(_ request: ClaimWithReads) async throws -> ClaimAnswer {
        try await claimsWithReads.submit(request)
    }

    /// One batch of claims with their reads: the claims, then the opt-out checks of the claimed ones (one store
    /// call per route), then their conversation lookups. A delivery not claimed reads nothing.
    private static func claim(
        _ requests: [ClaimWithReads], in store: any HeraldStore, worker: String, lease: Duration, now at: Date
    ) async throws -> [ClaimAnswer] {
        let claims = try await store.claim(requests.map(\.deliveryId), worker: worker, lease: lease, now: at)
        var answers = requests.map {
            ClaimAnswer(claim: claims[$0.deliveryId] ?? .claimedByOther(worker: "", until: at))
        }
        let claimed = answers.indices.filter {
            if case .claimed = answers[$0].claim { true } else { false }
        }
        let checks = claimed.filter { requests[$0].optOut != nil }
        for (route, indices) in Dictionary(grouping: checks, by: { requests[$0].route }) {
            let hits = try await store.optedOut(indices.map { requests[$0].optOut! }, route: route)
            for (position, index) in indices.enumerated() {
                answers[index].optedOut = hits.contains(position)
            }
        }
        let lookups = claimed.filter { requests[$0].reference != nil }
        if !lookups.isEmpty {
            let found = try await store.references(lookups.map { requests[$0].reference! })
            for (index, reference) in zip(lookups, found) {
                answers[index].reference = .init(query: requests[index].reference!, found: reference)
            }
        }
        return answers
    }

    /// Records that the Teams request for a claimed delivery is about to be made.
    public func markSending(_ deliveryId: String) async throws {
        try await sending.submit(deliveryId)
    }

    public func markSent(_ delivery: SentDelivery) async throws {
        try await sent.submit(delivery)
    }

    /// The delivery's outcome is on the outcomes topic, published for the record at `input`
    /// (`topic/partition/offset`).
    public func markOutcomePublished(_ deliveryId: String, input: String? = nil) async throws {
        try await published.submit(PublishedOutcome(deliveryId: deliveryId, input: input))
    }

    /// Teams refused the request outright (429, 412, no token): the delivery is `claimed` again, not `sending`, while
    /// it waits to retry. Rare with paced requests, so not batched.
    public func markNotSending(_ deliveryId: String) async throws {
        try await store.markNotSending([deliveryId], worker: worker, now: now())
    }

    /// Takes over a delivery another worker left ``ClaimResult/uncertain(_:)``, to send it again; false when
    /// someone else took it first. Rare (a worker killed mid-request), so not batched.
    public func takeOverUncertain(_ deliveryId: String) async throws -> Bool {
        try await store.claimUncertain([deliveryId], worker: worker, lease: lease, now: now()).contains(deliveryId)
    }

    public func release(_ deliveryId: String) async throws {
        try await releases.submit(deliveryId)
    }

    /// Stores a delivery that is not due yet (``HeraldStore/addDeferred(_:)``).
    public func addDeferred(_ delivery: DeferredDelivery) async throws {
        try await deferrals.submit(delivery)
    }

    /// Claims up to `limit` deferred deliveries that are due, for this worker's lease.
    public func claimDue(limit: Int) async throws -> [DeferredDelivery] {
        try await store.claimDue(now: now(), limit: limit, worker: worker, lease: lease)
    }

    /// Adds a delivery to its digest (``HeraldStore/joinDigests(_:now:)``).
    public func joinDigest(_ join: DigestJoin) async throws -> DigestJoined {
        try await joins.submit(join)
    }

    /// Claims up to `limit` due digests for this worker's lease.
    public func claimDueDigests(limit: Int) async throws -> [DueDigest] {
        try await store.claimDueDigests(now: now(), limit: limit, worker: worker, lease: lease)
    }

    /// A due deferred delivery has its outcome: it leaves the store.
    public func completeDeferred(_ id: String) async throws {
        try await completions.submit(id)
    }
}

/// A claim with the reads its delivery makes next (``DeliveryMachine/readsAfterClaim``).
public struct ClaimWithReads: Sendable {
    public var deliveryId: String
    public var route: String
    public var optOut: OptOutCheck?
    public var reference: ReferenceQuery?

    public init(deliveryId: String, route: String, optOut: OptOutCheck?, reference: ReferenceQuery?) {
        self.deliveryId = deliveryId
        self.route = route
        self.optOut = optOut
        self.reference = reference
    }
}

/// What a ``ClaimWithReads`` found: the claim, and for a claimed delivery the answers of its reads.
public struct ClaimAnswer: Sendable {
    public struct Reference: Sendable {
        public var query: ReferenceQuery
        public var found: ConversationReference?
    }

    public var claim: ClaimResult
    /// Nil: not read (the delivery was not claimed, or has no opt-out check).
    public var optedOut: Bool?
    public var reference: Reference?
}
