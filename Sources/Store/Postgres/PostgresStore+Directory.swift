import Foundation
import PostgresNIO

extension PostgresStore {
    public func directoryEntry(tenantId: String, name: String) async throws -> DirectoryEntry? {
        let tenant = tenantId.lowercased()
        return try await perform("look up directory cache") { [client, logger] in
            for try await (objectId, enabled, resolvedAt) in try await client.query(
                """
                SELECT object_id, account_enabled, resolved_at FROM herald_directory
                WHERE tenant_id = \(tenant) AND name = \(name)
                """, logger: logger
            ).decode((String?, Int32, Int64).self) {
                return DirectoryEntry(
                    tenantId: tenant, name: name, objectId: objectId, accountEnabled: enabled != 0,
                    resolvedAt: Date(epochMilliseconds: resolvedAt))
            }
            return nil
        }
    }

    /// One statement for the batch; the last answer wins when a batch names one person twice.
    public func storeDirectoryEntries(_ entries: [DirectoryEntry]) async throws {
        var byKey: [String: DirectoryEntry] = [:]
        for entry in entries { byKey[entry.tenantId + "\u{0}" + entry.name] = entry }
        guard !byKey.isEmpty else { return }
        let rows = byKey.keys.sorted().compactMap { byKey[$0] }
        let tenants = rows.map(\.tenantId), names = rows.map(\.name), ids = rows.map { $0.objectId ?? "" }
        let enabled = rows.map { Int32($0.accountEnabled ? 1 : 0) }, resolved = rows.map(\.resolvedAt.epochMilliseconds)
        try await perform("store directory cache") { [client, logger] in
            _ = try await client.query(
                """
                INSERT INTO herald_directory (tenant_id, name, object_id, account_enabled, resolved_at)
                SELECT t, n, NULLIF(o, ''), e, r
                FROM unnest(\(tenants)::text[], \(names)::text[], \(ids)::text[], \(enabled)::int4[], \(resolved)::int8[])
                    AS d(t, n, o, e, r)
                ON CONFLICT (tenant_id, name) DO UPDATE SET object_id = EXCLUDED.object_id,
                    account_enabled = EXCLUDED.account_enabled, resolved_at = EXCLUDED.resolved_at
                """, logger: logger)
        }
    }
}
