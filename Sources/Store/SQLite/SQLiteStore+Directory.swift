import Foundation

extension SQLiteStore {
    public func directoryEntry(tenantId: String, name: String) async throws -> DirectoryEntry? {
        try await read { db in
            try db.query(
                """
                SELECT object_id, account_enabled, resolved_at FROM herald_directory WHERE tenant_id = ? AND name = ?
                """, [.text(tenantId.lowercased()), .text(name)]
            ).first.map { row in
                DirectoryEntry(
                    tenantId: tenantId, name: name, objectId: row[0].text, accountEnabled: row[1].integer != 0,
                    resolvedAt: Date(epochMilliseconds: row[2].integer ?? 0))
            }
        }
    }

    public func storeDirectoryEntries(_ entries: [DirectoryEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await write { db in
            for entry in entries {
                try db.execute(
                    """
                    INSERT INTO herald_directory (tenant_id, name, object_id, account_enabled, resolved_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (tenant_id, name) DO UPDATE SET object_id = excluded.object_id,
                        account_enabled = excluded.account_enabled, resolved_at = excluded.resolved_at
                    """,
                    [
                        .text(entry.tenantId), .text(entry.name), SQLiteValue(entry.objectId),
                        .integer(entry.accountEnabled ? 1 : 0), .integer(entry.resolvedAt.epochMilliseconds),
                    ])
            }
        }
    }
}
