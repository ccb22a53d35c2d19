import Foundation

extension SQLiteStore {
    public func joinDigests(_ joins: [DigestJoin], now: Date) async throws -> [DigestJoined] {
        guard !joins.isEmpty else { return [] }
        let nowMs = now.epochMilliseconds
        return try await write { db in
            try joins.map { join in try Self.join(join, nowMs: nowMs, in: db) }
        }
    }

    private static func join(_ join: DigestJoin, nowMs: Int64, in db: SQLiteConnection) throws -> DigestJoined {
        if let row = try db.query(
            "SELECT digest_id, position FROM herald_digest_items WHERE delivery_id = ?", [.text(join.deliveryId)]
        ).first {
            return DigestJoined(digestId: row[0].text ?? "", position: Int(row[1].integer ?? 0))
        }
        var digestId: String?
        var count: Int64 = 0
        if let open = try db.query(
            "SELECT id, closes_at, item_count, max_items FROM herald_digests WHERE group_key = ? AND state = 'open'",
            [.text(join.groupKey)]
        ).first {
            let (id, closesAt, items, maxItems) =
                (open[0].text ?? "", open[1].integer ?? 0, open[2].integer ?? 0, open[3].integer ?? 0)
            if closesAt > nowMs, items < maxItems {
                digestId = id
                count = items
            } else {
                try db.execute(DigestSQL.close, [.integer(nowMs), .integer(nowMs), .text(id)])
            }
        }
        if digestId == nil {
            let closesAt = nowMs + join.window.milliseconds
            try db.execute(
                """
                INSERT INTO herald_digests (id, group_key, state, live, payload, opened_at, closes_at, due_at, next_at,
                    item_count, max_items, sent_count)
                VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, 0, ?, 0)
                """,
                [
                    .text(join.newDigestId), .text(join.groupKey), .integer(join.live ? 1 : 0),
                    .blob(join.digestPayload),
                    .integer(nowMs), .integer(closesAt), .integer(join.live ? nowMs : closesAt), .integer(nowMs),
                    .integer(Int64(join.maxItems)),
                ])
            digestId = join.newDigestId
        }
        let id = digestId!
        let position = count + 1
        try db.execute(
            "INSERT INTO herald_digest_items (delivery_id, digest_id, position, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(join.deliveryId), .text(id), .integer(position), .blob(join.itemPayload), .integer(nowMs)])
        try db.execute(DigestSQL.added, [.integer(nowMs), .integer(nowMs), .text(id)])
        return DigestJoined(digestId: id, position: Int(position))
    }

    /// One `BEGIN IMMEDIATE` transaction selects and claims, so concurrent callers never get the same digest.
    public func claimDueDigests(now: Date, limit: Int, worker: String, lease: Duration) async throws -> [DueDigest] {
        let nowMs = now.epochMilliseconds, expires = now.adding(lease).epochMilliseconds
        return try await write { db in
            let rows = try db.query(
                """
                SELECT id, payload, live, COALESCE(batch_upto, item_count), sent_count, opened_at, closes_at
                FROM herald_digests
                WHERE due_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at <= ?)
                ORDER BY due_at, id LIMIT ?
                """, [.integer(nowMs), .integer(nowMs), .integer(Int64(max(1, limit)))])
            return try rows.map { row in
                let id = row[0].text ?? "", upTo = row[3].integer ?? 0
                try db.execute(
                    DigestSQL.claim, [.text(worker), .integer(expires), .integer(upTo), .integer(nowMs), .text(id)])
                let items = try db.query(
                    """
                    SELECT delivery_id, position, payload FROM herald_digest_items
                    WHERE digest_id = ? AND position <= ? ORDER BY position
                    """, [.text(id), .integer(upTo)]
                ).map {
                    DigestItem(
                        deliveryId: $0[0].text ?? "", position: Int($0[1].integer ?? 0), payload: $0[2].blob ?? [])
                }
                return DueDigest(
                    id: id, payload: row[1].blob ?? [], live: row[2].integer == 1, items: items, upTo: Int(upTo),
                    sentCount: Int(row[4].integer ?? 0), openedAt: Date(epochMilliseconds: row[5].integer ?? 0),
                    closesAt: Date(epochMilliseconds: row[6].integer ?? 0))
            }
        }
    }

    public func advanceDigest(_ id: String, sentCount: Int, nextAt: Date, now: Date) async throws {
        let next = nextAt.epochMilliseconds, nowMs = now.epochMilliseconds
        try await write { db in
            try db.execute(
                DigestSQL.advance,
                [
                    .integer(Int64(sentCount)), .integer(next), .integer(Int64(sentCount)), .integer(next),
                    .integer(nowMs), .text(id),
                ])
            if try db.query("SELECT 1 FROM herald_digests WHERE id = ? AND \(DigestSQL.finished)", [.text(id)]).first
                != nil
            {
                try Self.delete(id, in: db)
            }
        }
    }

    public func completeDigest(_ id: String) async throws {
        try await write { db in try Self.delete(id, in: db) }
    }

    private static func delete(_ id: String, in db: SQLiteConnection) throws {
        try db.execute("DELETE FROM herald_digest_items WHERE digest_id = ?", [.text(id)])
        try db.execute("DELETE FROM herald_digests WHERE id = ?", [.text(id)])
    }

    public func rescheduleDigest(_ id: String, dueAt: Date) async throws {
        try await write { db in
            try db.execute(DigestSQL.reschedule, [.integer(dueAt.epochMilliseconds), .text(id)])
        }
    }

    public func digestCount() async throws -> Int {
        try await read { db in Int(try db.query("SELECT COUNT(*) FROM herald_digests").first?[0].integer ?? 0) }
    }
}

/// SQLite's digest statements (PostgreSQL's say the same with `LEAST`/`GREATEST`).
private enum DigestSQL {
    /// Closes an open digest that can take no more (binds: now, now, id). Due at once; a live one's waiting items
    /// no sooner than its next update may go.
    static let close = """
        UPDATE herald_digests SET state = 'closed',
            due_at = CASE WHEN live = 1 AND item_count > sent_count THEN MAX(?, next_at) ELSE MIN(due_at, ?) END
        WHERE id = ?
        """
    /// An item was added (binds: now, now, id): counted; a full batch digest closes and is due now; a live one with
    /// something new to show is due when its next update may go (even after its window: the last update keeps to
    /// `minInterval` too), and closes when full.
    static let added = """
        UPDATE herald_digests SET item_count = item_count + 1,
            state = CASE WHEN item_count + 1 >= max_items THEN 'closed' ELSE state END,
            due_at = CASE
                WHEN live = 1 THEN MAX(?, next_at)
                WHEN item_count + 1 >= max_items THEN MIN(due_at, ?)
                ELSE due_at END
        WHERE id = ?
        """
    /// Claims a due digest (binds: worker, expires, upTo, now, id): its window closes once ended; the items it covers
    /// are fixed until it advances.
    static let claim = """
        UPDATE herald_digests SET claimed_by = ?, claim_expires_at = ?, batch_upto = ?,
            state = CASE WHEN live = 0 OR closes_at <= ? THEN 'closed' ELSE state END
        WHERE id = ?
        """
    /// A live digest's send is done (binds: sentCount, nextAt, sentCount, nextAt, now, id).
    static let advance = """
        UPDATE herald_digests SET sent_count = ?, next_at = ?, batch_upto = NULL, claimed_by = NULL,
            claim_expires_at = NULL,
            due_at = CASE WHEN item_count > ? THEN MAX(?, ?) ELSE closes_at END
        WHERE id = ?
        """
    /// Nothing left to show and no more to come.
    static let finished = "state = 'closed' AND item_count <= sent_count"
    /// Binds: dueAt, id.
    static let reschedule = """
        UPDATE herald_digests SET due_at = ?, claimed_by = NULL, claim_expires_at = NULL, batch_upto = NULL
        WHERE id = ?
        """
}
