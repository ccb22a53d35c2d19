import Foundation
import Store

/// The delivery engine's per-delivery reads (opt-out checks and conversation-reference lookups), coalesced
/// while many deliveries are in flight into batched store calls, as ``DeliveryLedger`` does for the ledger.
public final class DeliveryLookups: Sendable {
    private struct OptOutQuery: Sendable {
        var check: OptOutCheck
        var route: String
    }

    private let optOuts: Batcher<OptOutQuery, Bool>
    private let references: Batcher<ReferenceQuery, ConversationReference?>
    private let upserts: Batcher<ConversationReference, Void>
    private let store: any HeraldStore

    public init(store: any HeraldStore, maxBatchSize: Int = 1000, maxConcurrentBatches: Int = 2) {
        self.store = store
        upserts = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { references in
            try await store.upsertReferences(references)
            return references.map { _ in () }
        }
        optOuts = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { queries in
            // One store call per route (opt-outs can name one), each answering all of that route's checks.
            var results = [Bool](repeating: false, count: queries.count)
            let byRoute = Dictionary(grouping: queries.indices, by: { queries[$0].route })
            for (route, indices) in byRoute {
                let hits = try await store.optedOut(indices.map { queries[$0].check }, route: route)
                for hit in hits { results[indices[hit]] = true }
            }
            return results
        }
        references = Batcher(maxBatchSize: maxBatchSize, maxConcurrentBatches: maxConcurrentBatches) { queries in
            try await store.references(queries)
        }
    }

    /// Whether the recipient opted out of `route` (or of everything).
    public func optedOut(_ check: OptOutCheck, route: String) async throws -> Bool {
        try await optOuts.submit(OptOutQuery(check: check, route: route))
    }

    /// The stored conversation reference the query finds, if any.
    public func reference(_ query: ReferenceQuery) async throws -> ConversationReference? {
        try await references.submit(query)
    }

    /// Stores a conversation Herald created (or the app installation opened) as the recipient's reference.
    public func store(_ reference: ConversationReference) async throws {
        try await upserts.submit(reference)
    }

    /// Forgets a stored reference Teams no longer knows. Rare (a 404 on a stored conversation), so not batched.
    public func forget(key: String) async throws {
        try await store.forgetReferences(keys: [key])
    }

    /// Marks a stored reference blocked (the recipient blocked or removed the bot). Rare, so not batched.
    public func markBlocked(key: String, code: String, at: Date) async throws {
        try await store.markBlocked(keys: [key], code: code, at: at)
    }

    /// The last message sent under `notificationKey` to `recipient`, for an update or delete.
    public func latestSent(notificationKey: String, recipient: String) async throws -> LedgerEntry? {
        try await store.latestSent(notificationKey: notificationKey, recipient: recipient)
    }
}
