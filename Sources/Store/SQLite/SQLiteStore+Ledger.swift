import Foundation

extension SQLiteStore {
    public func claim(
        _ deliveryIds: [String], worker: String, lease: Duration, now: Date
    ) async throws -> [String: ClaimResult] {
        let ids = Array(Set(deliveryIds))
        guard !ids.isEmpty else { return [:] }
        let nowMs = now.epochMilliseconds
        let expires = now.adding(lease).epochMilliseconds
        return try await write { db in
            var results: [String: ClaimResult] = [:]
            for id in ids {
                let existing = try db.query(
                    "SELECT \(Schema.ledgerColumns) FROM herald_ledger WHERE delivery_id = ?", [.text(id)]
                ).first.map(LedgerEntry.init(sqlite:))
                if let refused = ClaimResult.decide(existing: existing, worker: worker, now: now) {
                    results[id] = refused
                    continue
                }
                try db.execute(
                    """
                    INSERT INTO herald_ledger (delivery_id, state, claimed_by, claim_expires_at, created_at, updated_at)
                    VALUES (?, 'claimed', ?, ?, ?, ?)
                    ON CONFLICT (delivery_id) DO UPDATE SET state = 'claimed', claimed_by = excluded.claimed_by,
                        claim_expires_at = excluded.claim_expires_at, updated_at = excluded.updated_at
                    """, [.text(id), .text(worker), .integer(expires), .integer(nowMs), .integer(nowMs)])
                results[id] = .claimed
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
        _ deliveryIds: [String], of worker: String, from: [DeliveryState], to: DeliveryState, now: Date
    ) async throws {
        guard !deliveryIds.isEmpty, !from.isEmpty else { return }
        let nowMs = now.epochMilliseconds
        let states = Array(repeating: "?", count: from.count).joined(separator: ", ")
        try await write { db in
            for id in deliveryIds {
                try db.execute(
                    """
                    UPDATE herald_ledger SET state = ?, updated_at = ?
                    WHERE delivery_id = ? AND claimed_by = ? AND state IN (\(states))
                    """,
                    [.text(to.rawValue), .integer(nowMs), .text(id), .text(worker)] + from.map { .text($0.rawValue) })
            }
        }
    }

    public func markSent(_ deliveries: [SentDelivery], now: Date) async throws {
        guard !deliveries.isEmpty else { return }
        let nowMs = now.epochMilliseconds
        try await write { db in
            for d in deliveries {
                try db.execute(
                    """
                    INSERT INTO herald_ledger (delivery_id, state, activity_id, conversation_id, service_url, attempts,
                        notification_key, recipient, created_at, updated_at, sent_at, card)
                    VALUES (?, 'sent', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (delivery_id) DO UPDATE SET state = 'sent', claimed_by = NULL, claim_expires_at = NULL,
                        activity_id = excluded.activity_id, conversation_id = excluded.conversation_id,
                        service_url = excluded.service_url, attempts = excluded.attempts,
                        notification_key = excluded.notification_key, recipient = excluded.recipient,
                        updated_at = excluded.updated_at, sent_at = excluded.sent_at, card = excluded.card
                    WHERE herald_ledger.state <> 'outcomePublished'
                    """,
                    [
                        .text(d.deliveryId), SQLiteValue(d.activityId), SQLiteValue(d.conversationId),
                        SQLiteValue(d.serviceUrl), .integer(Int64(d.attempts)), SQLiteValue(d.notificationKey),
                        SQLiteValue(d.recipient), .integer(nowMs), .integer(nowMs), .integer(nowMs),
                        SQLiteValue(d.card),
                    ])
            }
        }
    }

    public func markOutcomePublished(_ outcomes: [PublishedOutcome], now: Date) async throws {
        guard !outcomes.isEmpty else { return }
        let nowMs = now.epochMilliseconds
        try await write { db in
            for outcome in outcomes {
                try db.execute(
                    """
                    INSERT INTO herald_ledger (delivery_id, state, created_at, updated_at, input)
                    VALUES (?, 'outcomePublished', ?, ?, ?)
                    ON CONFLICT (delivery_id) DO UPDATE SET state = 'outcomePublished', claimed_by = NULL,
                        claim_expires_at = NULL, updated_at = excluded.updated_at,
                        input = COALESCE(herald_ledger.input, excluded.input)
                    """, [.text(outcome.deliveryId), .integer(nowMs), .integer(nowMs), SQLiteValue(outcome.input)])
            }
        }
    }

    public func claimUncertain(
        _ deliveryIds: [String], worker: String, lease: Duration, now: Date
    ) async throws -> Set<String> {
        let ids = Array(Set(deliveryIds))
        guard !ids.isEmpty else { return [] }
        let nowMs = now.epochMilliseconds
        let expires = now.adding(lease).epochMilliseconds
        return try await write { db in
            var taken: Set<String> = []
            for id in ids {
                let changed = try db.execute(
                    """
                    UPDATE herald_ledger SET state = 'claimed', claimed_by = ?, claim_expires_at = ?, updated_at = ?
                    WHERE delivery_id = ? AND state = 'sending' AND claim_expires_at <= ?
                    """, [.text(worker), .integer(expires), .integer(nowMs), .text(id), .integer(nowMs)])
                if changed > 0 { taken.insert(id) }
            }
            return taken
        }
    }

    public func release(_ deliveryIds: [String], worker: String, now: Date) async throws {
        guard !deliveryIds.isEmpty else { return }
        let nowMs = now.epochMilliseconds
        try await write { db in
            for id in deliveryIds {
                try db.execute(
                    """
                    UPDATE herald_ledger SET state = 'pending', claimed_by = NULL, claim_expires_at = NULL,
                        updated_at = ? WHERE delivery_id = ? AND state IN ('claimed', 'sending') AND claimed_by = ?
                    """, [.integer(nowMs), .text(id), .text(worker)])
            }
        }
    }

    public func ledgerEntry(deliveryId: String) async throws -> LedgerEntry? {
        try await read { db in
            try db.query("SELECT \(Schema.ledgerColumns) FROM herald_ledger WHERE delivery_id = ?", [.text(deliveryId)])
                .first.map(LedgerEntry.init(sqlite:))
        }
    }

    public func latestSent(notificationKey: String, recipient: String) async throws -> LedgerEntry? {
        try await read { db in
            try db.query(
                """
                SELECT \(Schema.ledgerColumns) FROM herald_ledger
                WHERE notification_key = ? AND recipient = ? AND sent_at IS NOT NULL AND activity_id IS NOT NULL
                ORDER BY sent_at DESC LIMIT 1
                """, [.text(notificationKey), .text(recipient)]
            ).first.map(LedgerEntry.init(sqlite:))
        }
    }

    public func sentCard(deliveryId: String) async throws -> String? {
        try await read { db in
            try db.query("SELECT card FROM herald_ledger WHERE delivery_id = ?", [.text(deliveryId)]).first?[0].text
        }
    }

    public func purge(olderThan cutoff: Date, batchSize: Int) async throws -> Int {
        let batch = Int64(max(1, batchSize))
        var total = 0
        while true {
            // One short transaction per batch, so a worker writing meanwhile waits at most one batch.
            let deleted = try await write { db in
                try db.execute(
                    """
                    DELETE FROM herald_ledger WHERE delivery_id IN
                        (SELECT delivery_id FROM herald_ledger WHERE updated_at < ? LIMIT ?)
                    """, [.integer(cutoff.epochMilliseconds), .integer(batch)])
            }
            total += deleted
            if deleted < batch { return total }
        }
    }
}

extension LedgerEntry {
    init(sqlite row: [SQLiteValue]) {
        self.init(
            deliveryId: row[0].text ?? "", state: DeliveryState(rawValue: row[1].text ?? "") ?? .pending,
            claimedBy: row[2].text, claimExpiresAt: row[3].integer.map(Date.init(epochMilliseconds:)),
            activityId: row[4].text, conversationId: row[5].text, serviceUrl: row[6].text,
            attempts: Int(row[7].integer ?? 0), notificationKey: row[8].text, recipient: row[9].text,
            createdAt: Date(epochMilliseconds: row[10].integer ?? 0),
            updatedAt: Date(epochMilliseconds: row[11].integer ?? 0),
            sentAt: row[12].integer.map(Date.init(epochMilliseconds:)), input: row[13].text)
    }
}
