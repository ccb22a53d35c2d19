import Foundation
import PostgresNIO

extension PostgresStore {
    typealias LedgerRow = (
        String, String, String?, Int64?, String?, String?, String?, Int32, String?, String?, Int64, Int64, Int64?,
        String?
    )

    /// One `INSERT ... ON CONFLICT DO UPDATE ... WHERE` over `unnest($1::text[])`: the row lock PostgreSQL takes
    /// on each conflicting row makes the check-and-claim atomic, so of two workers claiming one id, exactly one
    /// gets it back from `RETURNING`. Ids are sorted so concurrent batches lock rows in one order (no deadlock).
    /// A second read reports why the others were not claimed.
    public func claim(
        _ deliveryIds: [String], worker: String, lease: Duration, now: Date
    ) async throws -> [String: ClaimResult] {
        let ids = Array(Set(deliveryIds)).sorted()
        guard !ids.isEmpty else { return [:] }
        let nowMs = now.epochMilliseconds, expires = now.adding(lease).epochMilliseconds
        return try await perform("claim deliveries") { [client, logger] in
            var claimed: Set<String> = []
            for try await id in try await client.query(
                """
                INSERT INTO herald_ledger (delivery_id, state, claimed_by, claim_expires_at, created_at, updated_at)
                SELECT id, 'claimed', \(worker), \(expires), \(nowMs), \(nowMs)
                FROM unnest(\(ids)::text[]) AS input(id) ORDER BY id
                ON CONFLICT (delivery_id) DO UPDATE SET state = 'claimed', claimed_by = EXCLUDED.claimed_by,
                    claim_expires_at = EXCLUDED.claim_expires_at, updated_at = EXCLUDED.updated_at
                WHERE herald_ledger.state = 'pending' OR (herald_ledger.state = 'claimed'
                    AND (herald_ledger.claimed_by = EXCLUDED.claimed_by
                        OR herald_ledger.claim_expires_at <= EXCLUDED.updated_at))
                    OR (herald_ledger.state = 'sending' AND herald_ledger.claimed_by = EXCLUDED.claimed_by)
                RETURNING delivery_id
                """, logger: logger
            ).decode(String.self) {
                claimed.insert(id)
            }
            var results = Dictionary(uniqueKeysWithValues: claimed.map { ($0, ClaimResult.claimed) })
            let others = ids.filter { !claimed.contains($0) }
            guard !others.isEmpty else { return results }
            for try await row in try await client.query(
                "SELECT \(unescaped: Schema.ledgerColumns) FROM herald_ledger WHERE delivery_id = ANY(\(others))",
                logger: logger
            ).decode(LedgerRow.self) {
                let entry = LedgerEntry(postgres: row)
                results[entry.deliveryId] =
                    ClaimResult.decide(existing: entry, worker: worker, now: now)
                    ?? .claimedByOther(worker: entry.claimedBy ?? "", until: entry.claimExpiresAt ?? now)
            }
            for id in others where results[id] == nil {
                // Purged between the two statements: not ours, so not claimed.
                results[id] = .claimedByOther(worker: "", until: now)
            }
            return results
        }
    }

    public func markSending(_ deliveryIds: [String], worker: String, now: Date) async throws {
        try await move(deliveryIds, of: worker, from: [.claimed, .sending], to: .sending, now: now)
    }

    public func markNotSending(_ deliveryIds: [String], worker: String, now: Date) async throws {
        try await move(deliveryIds, of: worker, from: [.sending], to: .claimed, now: now)
    }

    /// Moves `worker`'s rows in one of the `from` states to `to`.
    private func move(
        _ deliveryIds: [String], of worker: String, from: [DeliveryState], to: DeliveryState, now: Date,
        function: String = #function
    ) async throws {
        let ids = Array(Set(deliveryIds)).sorted()
        guard !ids.isEmpty else { return }
        let nowMs = now.epochMilliseconds
        let (from, to) = (from.map(\.rawValue), to.rawValue)
        try await perform("mark deliveries \(to)", function: function) { [client, logger] in
            _ = try await client.query(
                """
                UPDATE herald_ledger SET state = \(to), updated_at = \(nowMs)
                WHERE delivery_id = ANY(\(ids)) AND claimed_by = \(worker) AND state = ANY(\(from))
                """, logger: logger)
        }
    }

    public func markSent(_ deliveries: [SentDelivery], now: Date) async throws {
        var byId: [String: SentDelivery] = [:]
        for d in deliveries { byId[d.deliveryId] = d }
        guard !byId.isEmpty else { return }
        let rows = byId.values.sorted { $0.deliveryId < $1.deliveryId }
        let ids = rows.map(\.deliveryId), activities = rows.map { $0.activityId ?? "" }
        let conversations = rows.map { $0.conversationId ?? "" }, services = rows.map { $0.serviceUrl ?? "" }
        let attempts = rows.map { Int64($0.attempts) }, keys = rows.map { $0.notificationKey ?? "" }
        let recipients = rows.map { $0.recipient ?? "" }, cards = rows.map { $0.card ?? "" }
        let nowMs = now.epochMilliseconds
        try await perform("mark deliveries sent") { [client, logger] in
            _ = try await client.query(
                """
                INSERT INTO herald_ledger (delivery_id, state, activity_id, conversation_id, service_url, attempts,
                    notification_key, recipient, created_at, updated_at, sent_at, card)
                SELECT id, 'sent', NULLIF(act, ''), NULLIF(conv, ''), NULLIF(svc, ''), att, NULLIF(nkey, ''),
                    NULLIF(rcp, ''), \(nowMs), \(nowMs), \(nowMs), NULLIF(crd, '')
                FROM unnest(\(ids)::text[], \(activities)::text[], \(conversations)::text[], \(services)::text[],
                    \(attempts)::int8[], \(keys)::text[], \(recipients)::text[], \(cards)::text[])
                    AS u(id, act, conv, svc, att, nkey, rcp, crd)
                ORDER BY id
                ON CONFLICT (delivery_id) DO UPDATE SET state = 'sent', claimed_by = NULL, claim_expires_at = NULL,
                    activity_id = EXCLUDED.activity_id, conversation_id = EXCLUDED.conversation_id,
                    service_url = EXCLUDED.service_url, attempts = EXCLUDED.attempts,
                    notification_key = EXCLUDED.notification_key, recipient = EXCLUDED.recipient,
                    updated_at = EXCLUDED.updated_at, sent_at = EXCLUDED.sent_at, card = EXCLUDED.card
                WHERE herald_ledger.state <> 'outcomePublished'
                """, logger: logger)
        }
    }

    public func markOutcomePublished(_ outcomes: [PublishedOutcome], now: Date) async throws {
        var byId: [String: String] = [:]
        for outcome in outcomes { byId[outcome.deliveryId] = outcome.input ?? "" }
        guard !byId.isEmpty else { return }
        let rows = byId.sorted { $0.key < $1.key }
        let ids = rows.map(\.key), inputs = rows.map(\.value)
        let nowMs = now.epochMilliseconds
        try await perform("mark outcomes published") { [client, logger] in
            _ = try await client.query(
                """
                INSERT INTO herald_ledger (delivery_id, state, created_at, updated_at, input)
                SELECT id, 'outcomePublished', \(nowMs), \(nowMs), NULLIF(inp, '')
                FROM unnest(\(ids)::text[], \(inputs)::text[]) AS u(id, inp) ORDER BY id
                ON CONFLICT (delivery_id) DO UPDATE SET state = 'outcomePublished', claimed_by = NULL,
                    claim_expires_at = NULL, updated_at = EXCLUDED.updated_at,
                    input = COALESCE(herald_ledger.input, EXCLUDED.input)
                """, logger: logger)
        }
    }

    public func claimUncertain(
        _ deliveryIds: [String], worker: String, lease: Duration, now: Date
    ) async throws -> Set<String> {
        let ids = Array(Set(deliveryIds)).sorted()
        guard !ids.isEmpty else { return [] }
        let nowMs = now.epochMilliseconds, expires = now.adding(lease).epochMilliseconds
        return try await perform("take over uncertain deliveries") { [client, logger] in
            var taken: Set<String> = []
            for try await id in try await client.query(
                """
                UPDATE herald_ledger SET state = 'claimed', claimed_by = \(worker), claim_expires_at = \(expires),
                    updated_at = \(nowMs)
                WHERE delivery_id = ANY(\(ids)) AND state = 'sending' AND claim_expires_at <= \(nowMs)
                RETURNING delivery_id
                """, logger: logger
            ).decode(String.self) {
                taken.insert(id)
            }
            return taken
        }
    }

    public func release(_ deliveryIds: [String], worker: String, now: Date) async throws {
        let ids = Array(Set(deliveryIds)).sorted()
        guard !ids.isEmpty else { return }
        let nowMs = now.epochMilliseconds
        try await perform("release claims") { [client, logger] in
            _ = try await client.query(
                """
                UPDATE herald_ledger SET state = 'pending', claimed_by = NULL, claim_expires_at = NULL,
                    updated_at = \(nowMs)
                WHERE delivery_id = ANY(\(ids)) AND state IN ('claimed', 'sending') AND claimed_by = \(worker)
                """, logger: logger)
        }
    }

    public func ledgerEntry(deliveryId: String) async throws -> LedgerEntry? {
        try await ledgerQuery("read ledger entry") {
            "SELECT \(unescaped: Schema.ledgerColumns) FROM herald_ledger WHERE delivery_id = \(deliveryId)"
        }.first
    }

    public func latestSent(notificationKey: String, recipient: String) async throws -> LedgerEntry? {
        try await ledgerQuery("look up sent notification") {
            """
            SELECT \(unescaped: Schema.ledgerColumns) FROM herald_ledger
            WHERE notification_key = \(notificationKey) AND recipient = \(recipient) AND sent_at IS NOT NULL
                AND activity_id IS NOT NULL
            ORDER BY sent_at DESC LIMIT 1
            """
        }.first
    }

    public func sentCard(deliveryId: String) async throws -> String? {
        try await perform("read a sent card") { [client, logger] in
            var card: String?
            for try await value in try await client.query(
                "SELECT card FROM herald_ledger WHERE delivery_id = \(deliveryId)", logger: logger
            ).decode(String?.self) {
                card = value
            }
            return card
        }
    }

    public func purge(olderThan cutoff: Date, batchSize: Int) async throws -> Int {
        let batch = max(1, batchSize), cutoffMs = cutoff.epochMilliseconds
        var total = 0
        while true {
            // Short statements, each deleting at most one batch, so the purge never holds many row locks.
            let deleted = try await countQuery("purge ledger") {
                """
                WITH d AS (DELETE FROM herald_ledger WHERE delivery_id IN
                    (SELECT delivery_id FROM herald_ledger WHERE updated_at < \(cutoffMs) LIMIT \(batch)
                     FOR UPDATE SKIP LOCKED)
                RETURNING 1) SELECT COUNT(*) FROM d
                """
            }
            total += deleted
            if deleted < batch { return total }
        }
    }

    private func ledgerQuery(
        _ what: String, function: String = #function, _ query: @escaping @Sendable () -> PostgresQuery
    ) async throws -> [LedgerEntry] {
        try await perform(what, function: function) { [client, logger] in
            var entries: [LedgerEntry] = []
            for try await row in try await client.query(query(), logger: logger).decode(LedgerRow.self) {
                entries.append(LedgerEntry(postgres: row))
            }
            return entries
        }
    }
}

extension LedgerEntry {
    init(postgres r: PostgresStore.LedgerRow) {
        self.init(
            deliveryId: r.0, state: DeliveryState(rawValue: r.1) ?? .pending, claimedBy: r.2,
            claimExpiresAt: r.3.map(Date.init(epochMilliseconds:)), activityId: r.4, conversationId: r.5,
            serviceUrl: r.6, attempts: Int(r.7), notificationKey: r.8, recipient: r.9,
            createdAt: Date(epochMilliseconds: r.10), updatedAt: Date(epochMilliseconds: r.11),
            sentAt: r.12.map(Date.init(epochMilliseconds:)), input: r.13)
    }
}
