/// The delivery engine's per-delivery reads (opt-out checks and conversation-reference lookups), coalesced
/// while many deliveries are in flight into batched store calls, as ``DeliveryLedger`` does for the ledger.
public final class DeliveryLookups: Sendable {
    private struct OptOutQuery: Sendable {
        var check: OptOutCheck
        var route: String
    }

    private let optOuts: Batcher<OptOutQuery, Bool>
    private let references: Batcher<ReferenceQuery, ConversationReference?>

    public init(store: any HeraldStore, maxBatchSize: Int = 1000, maxConcurrentBatches: Int = 2) {
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
}
