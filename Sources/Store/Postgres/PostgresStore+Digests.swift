import Foundation
import PostgresNIO

extension PostgresStore {
    /// One transaction; each group's joins hold a transaction-scoped advisory lock on the group key, so workers
    /// joining one group at once take turns and never open two digests for it.
    public func joinDigests(_ joins: [DigestJoin], now: Date) async throws -> [DigestJoined] {
        guard !joins.isEmpty else { return [] }
        let nowMs = now.epochMilliseconds
        return try await perform("join digests") { [client, logger] in
            try await client.withConnection { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    // Locks in key order, so two batches never wait for each other in a circle.
                    for key in Set(joins.map(\.groupKey)).sorted() {
                        _ = try await connection.query(
                            "SELECT pg_advisory_xact_lock(hashtextextended(\(key), 7))", logger: logger)
                    }
                    var results: [DigestJoined] = []
                    for join in joins {
                        results.append(try await Self.join(join, nowMs: nowMs, on: connection, logger: logger))
                    }
                    return results
                }
            }
        }
    }

    private static func join(
        _ join: DigestJoin, nowMs: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws -> DigestJoined {
        for try await (digestId, position) in try await connection.query(
            "SELECT digest_id, position FROM herald_digest_items WHERE delivery_id = \(join.deliveryId)",
            logger: logger
        ).decode((String, Int32).self) {
            return DigestJoined(digestId: digestId, position: Int(position))
        }
        var digestId: String?
        var count: Int32 = 0
        for try await (id, closesAt, items, maxItems) in try await connection.query(
            """
            SELECT id, closes_at, item_count, max_items FROM herald_digests
            WHERE group_key = \(join.groupKey) AND state = 'open'
            """, logger: logger
        ).decode((String, Int64, Int32, Int32).self) {
            if closesAt > nowMs, items < maxItems {
                digestId = id
                count = items
            } else {
                _ = try await connection.query(
                    """
                    UPDATE herald_digests SET state = 'closed',
                        due_at = CASE WHEN live = 1 AND item_count > sent_count
                            THEN GREATEST(\(nowMs), next_at) ELSE LEAST(due_at, \(nowMs)) END
                    WHERE id = \(id)
                    """, logger: logger)
            }
        }
        if digestId == nil {
            let closesAt = nowMs + join.window.milliseconds
            let live: Int32 = join.live ? 1 : 0
            let due = join.live ? nowMs : closesAt
            let maxItems = Int32(join.maxItems)
            _ = try await connection.query(
                """
                INSERT INTO herald_digests (id, group_key, state, live, payload, opened_at, closes_at, due_at, next_at,
                    item_count, max_items, sent_count)
                VALUES (\(join.newDigestId), \(join.groupKey), 'open', \(live), \(ByteBuffer(bytes: join.digestPayload)),
                    \(nowMs), \(closesAt), \(due), \(nowMs), 0, \(maxItems), 0)
                """, logger: logger)
            digestId = join.newDigestId
        }
        let id = digestId!
        let position = count + 1
        _ = try await connection.query(
            """
            INSERT INTO herald_digest_items (delivery_id, digest_id, position, payload, created_at)
            VALUES (\(join.deliveryId), \(id), \(position), \(ByteBuffer(bytes: join.itemPayload)), \(nowMs))
            """, logger: logger)
        _ = try await connection.query(
            """
            UPDATE herald_digests SET item_count = item_count + 1,
                state = CASE WHEN item_count + 1 >= max_items THEN 'closed' ELSE state END,
                due_at = CASE
                    WHEN live = 1 THEN GREATEST(\(nowMs), next_at)
                    WHEN item_count + 1 >= max_items THEN LEAST(due_at, \(nowMs))
                    ELSE due_at END
            WHERE id = \(id)
            """, logger: logger)
        return DigestJoined(digestId: id, position: Int(position))
    }

    /// `FOR UPDATE SKIP LOCKED` picks due digests no other transaction is claiming, and the same statement stamps
    /// them with this worker's lease: each goes to exactly one caller until the lease expires.
    public func claimDueDigests(now: Date, limit: Int, worker: String, lease: Duration) async throws -> [DueDigest] {
        let nowMs = now.epochMilliseconds, expires = now.adding(lease).epochMilliseconds, limit = max(1, limit)
        return try await perform("claim due digests") { [client, logger] in
            var claimed: [DueDigest] = []
            for try await (id, payload, live, upTo, sent, opened, closes) in try await client.query(
                """
                UPDATE herald_digests d SET claimed_by = \(worker), claim_expires_at = \(expires),
                    batch_upto = COALESCE(d.batch_upto, d.item_count),
                    state = CASE WHEN d.live = 0 OR d.closes_at <= \(nowMs) THEN 'closed' ELSE d.state END
                FROM (SELECT id FROM herald_digests
                      WHERE due_at <= \(nowMs) AND (claim_expires_at IS NULL OR claim_expires_at <= \(nowMs))
                      ORDER BY due_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED) due
                WHERE d.id = due.id
                RETURNING d.id, d.payload, d.live, d.batch_upto, d.sent_count, d.opened_at, d.closes_at
                """, logger: logger
            ).decode((String, ByteBuffer, Int32, Int32, Int32, Int64, Int64).self) {
                claimed.append(
                    DueDigest(
                        id: id, payload: Array(payload.readableBytesView), live: live == 1, items: [], upTo: Int(upTo),
                        sentCount: Int(sent), openedAt: Date(epochMilliseconds: opened),
                        closesAt: Date(epochMilliseconds: closes)))
            }
            guard !claimed.isEmpty else { return [] }
            let ids = claimed.map(\.id)
            var items: [String: [DigestItem]] = [:]
            for try await (deliveryId, digestId, position, payload) in try await client.query(
                """
                SELECT i.delivery_id, i.digest_id, i.position, i.payload FROM herald_digest_items i
                JOIN herald_digests d ON d.id = i.digest_id
                WHERE i.digest_id = ANY(\(ids)) AND i.position <= d.batch_upto
                ORDER BY i.digest_id, i.position
                """, logger: logger
            ).decode((String, String, Int32, ByteBuffer).self) {
                items[digestId, default: []].append(
                    DigestItem(
                        deliveryId: deliveryId, position: Int(position), payload: Array(payload.readableBytesView)))
            }
            for index in claimed.indices { claimed[index].items = items[claimed[index].id] ?? [] }
            return claimed
        }
    }

    public func advanceDigest(_ id: String, sentCount: Int, nextAt: Date, now: Date) async throws {
        let next = nextAt.epochMilliseconds, nowMs = now.epochMilliseconds, sent = Int32(sentCount)
        try await perform("advance digest") { [client, logger] in
            _ = try await client.query(
                """
                UPDATE herald_digests SET sent_count = \(sent), next_at = \(next), batch_upto = NULL, claimed_by = NULL,
                    claim_expires_at = NULL,
                    due_at = CASE WHEN item_count > \(sent) THEN GREATEST(\(next), \(nowMs)) ELSE closes_at END
                WHERE id = \(id)
                """, logger: logger)
            _ = try await client.query(
                """
                WITH gone AS (
                    DELETE FROM herald_digests WHERE id = \(id) AND state = 'closed' AND item_count <= sent_count
                    RETURNING id)
                DELETE FROM herald_digest_items WHERE digest_id IN (SELECT id FROM gone)
                """, logger: logger)
        }
    }

    public func completeDigest(_ id: String) async throws {
        try await perform("complete digest") { [client, logger] in
            _ = try await client.query(
                """
                WITH gone AS (DELETE FROM herald_digests WHERE id = \(id) RETURNING id)
                DELETE FROM herald_digest_items WHERE digest_id = \(id)
                """, logger: logger)
        }
    }

    public func rescheduleDigest(_ id: String, dueAt: Date) async throws {
        let due = dueAt.epochMilliseconds
        try await perform("reschedule digest") { [client, logger] in
            _ = try await client.query(
                """
                UPDATE herald_digests SET due_at = \(due), claimed_by = NULL, claim_expires_at = NULL, batch_upto = NULL
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func digestCount() async throws -> Int {
        try await countQuery("count digests") { "SELECT COUNT(*) FROM herald_digests" }
    }
}
