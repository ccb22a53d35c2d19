import Foundation

extension SQLiteStore {
    public func addDeferred(_ deliveries: [DeferredDelivery]) async throws {
        guard !deliveries.isEmpty else { return }
        let nowMs = Date().epochMilliseconds
        try await write { db in
            for d in deliveries {
                try db.execute(
                    """
                    INSERT INTO herald_deferred (id, payload, due_at, attempts, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at,
                        attempts = excluded.attempts, claimed_by = NULL, claim_expires_at = NULL
                    """,
                    [
                        .text(d.id), .blob(d.payload), .integer(d.dueAt.epochMilliseconds), .integer(Int64(d.attempts)),
                        .integer(nowMs),
                    ])
            }
        }
    }

    /// One `BEGIN IMMEDIATE` transaction selects and claims, so concurrent callers (tasks or processes) are
    /// serialized by SQLite's single writer lock and never see the same unclaimed row.
    public func claimDue(now: Date, limit: Int, worker: String, lease: Duration) async throws -> [DeferredDelivery] {
        let nowMs = now.epochMilliseconds
        let expires = now.adding(lease).epochMilliseconds
        return try await write { db in
            let rows = try db.query(
                """
                SELECT id, payload, due_at, attempts FROM herald_deferred
                WHERE due_at <= ? AND (claim_expires_at IS NULL OR claim_expires_at <= ?)
                ORDER BY due_at, id LIMIT ?
                """, [.integer(nowMs), .integer(nowMs), .integer(Int64(max(1, limit)))])
            return try rows.map { row in
                let id = row[0].text ?? ""
                try db.execute(
                    "UPDATE herald_deferred SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + 1 WHERE id = ?",
                    [.text(worker), .integer(expires), .text(id)])
                return DeferredDelivery(
                    id: id, payload: row[1].blob ?? [], dueAt: Date(epochMilliseconds: row[2].integer ?? 0),
                    attempts: Int(row[3].integer ?? 0) + 1)
            }
        }
    }

    public func completeDeferred(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids { try db.execute("DELETE FROM herald_deferred WHERE id = ?", [.text(id)]) }
        }
    }

    public func rescheduleDeferred(_ id: String, dueAt: Date) async throws {
        try await write { db in
            _ = try db.execute(
                "UPDATE herald_deferred SET due_at = ?, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?",
                [.integer(dueAt.epochMilliseconds), .text(id)])
        }
    }

    public func deferredCount() async throws -> Int {
        try await read { db in Int(try db.query("SELECT COUNT(*) FROM herald_deferred").first?.first?.integer ?? 0) }
    }
}
