import Foundation
import PostgresNIO

extension PostgresStore {
    public func addDeferred(_ deliveries: [DeferredDelivery]) async throws {
        var byId: [String: DeferredDelivery] = [:]
        for d in deliveries { byId[d.id] = d }
        guard !byId.isEmpty else { return }
        let rows = byId.values.sorted { $0.id < $1.id }
        let ids = rows.map(\.id), payloads = rows.map { ByteBuffer(bytes: $0.payload) }
        let due = rows.map(\.dueAt.epochMilliseconds), attempts = rows.map { Int64($0.attempts) }
        let nowMs = Date().epochMilliseconds
        try await perform("add deferred deliveries") { [client, logger] in
            _ = try await client.query(
                """
                INSERT INTO herald_deferred (id, payload, due_at, attempts, created_at)
                SELECT id, payload, due, att, \(nowMs)
                FROM unnest(\(ids)::text[], \(payloads)::bytea[], \(due)::int8[], \(attempts)::int8[])
                    AS d(id, payload, due, att)
                ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, due_at = EXCLUDED.due_at,
                    attempts = EXCLUDED.attempts, claimed_by = NULL, claim_expires_at = NULL
                """, logger: logger)
        }
    }

    /// `FOR UPDATE SKIP LOCKED` picks due rows no other transaction is claiming right now; the same statement
    /// stamps them with this worker's lease, so a row is handed to exactly one caller until the lease expires.
    public func claimDue(now: Date, limit: Int, worker: String, lease: Duration) async throws -> [DeferredDelivery] {
        let nowMs = now.epochMilliseconds, expires = now.adding(lease).epochMilliseconds, limit = max(1, limit)
        return try await perform("claim due deferrals") { [client, logger] in
            var claimed: [DeferredDelivery] = []
            for try await (id, payload, due, attempts) in try await client.query(
                """
                UPDATE herald_deferred d SET claimed_by = \(worker), claim_expires_at = \(expires),
                    attempts = d.attempts + 1
                FROM (SELECT id FROM herald_deferred
                      WHERE due_at <= \(nowMs) AND (claim_expires_at IS NULL OR claim_expires_at <= \(nowMs))
                      ORDER BY due_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED) due
                WHERE d.id = due.id
                RETURNING d.id, d.payload, d.due_at, d.attempts
                """, logger: logger
            ).decode((String, ByteBuffer, Int64, Int32).self) {
                claimed.append(
                    DeferredDelivery(
                        id: id, payload: Array(payload.readableBytesView), dueAt: Date(epochMilliseconds: due),
                        attempts: Int(attempts)))
            }
            return claimed.sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
        }
    }

    public func completeDeferred(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await perform("complete deferrals") { [client, logger] in
            _ = try await client.query("DELETE FROM herald_deferred WHERE id = ANY(\(ids))", logger: logger)
        }
    }

    public func rescheduleDeferred(_ id: String, dueAt: Date) async throws {
        let due = dueAt.epochMilliseconds
        try await perform("reschedule deferral") { [client, logger] in
            _ = try await client.query(
                """
                UPDATE herald_deferred SET due_at = \(due), claimed_by = NULL, claim_expires_at = NULL
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    public func deferredCount() async throws -> Int {
        try await countQuery("count deferrals") { "SELECT COUNT(*) FROM herald_deferred" }
    }
}
