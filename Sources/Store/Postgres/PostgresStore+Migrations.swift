import Foundation
import PostgresNIO

extension PostgresStore {
    /// Takes a session advisory lock (one per schema), creates the schema and `herald_schema_version` if needed,
    /// applies every missing version in its own transaction, then unlocks. Workers starting together queue on the
    /// lock; the ones after the first find nothing to do.
    @discardableResult
    public func migrate() async throws -> Int {
        let schema = self.schema
        let logger = self.logger
        let lockKey = Self.migrationLockKey(schema: schema ?? "")
        return try await perform("migrate") { [client] in
            try await client.withConnection { connection in
                _ = try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
                do {
                    let version = try await Self.applyMigrations(connection, schema: schema, logger: logger)
                    _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                    return version
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                    throw error
                }
            }
        }
    }

    private static func applyMigrations(
        _ connection: PostgresConnection, schema: String?, logger: Logger
    ) async throws -> Int {
        if let schema {
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger)
            _ = try await connection.query("SELECT set_config('search_path', \(schema), false)", logger: logger)
        }
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS herald_schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
            logger: logger)
        var current = 0
        for try await version in try await connection.query(
            "SELECT COALESCE(MAX(version), 0)::int8 FROM herald_schema_version", logger: logger
        ).decode(Int64.self) {
            current = Int(version)
        }
        guard current <= Schema.latestVersion else {
            throw StoreError(
                .migration, "database schema version \(current) is newer than this build's \(Schema.latestVersion)")
        }
        for version in (current + 1)..<(Schema.latestVersion + 1) {
            do {
                try await connection.withTransaction(logger: logger) { connection in
                    for statement in Schema.postgres[version - 1] {
                        _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    let now = Date().epochMilliseconds
                    _ = try await connection.query(
                        "INSERT INTO herald_schema_version (version, applied_at) VALUES (\(version), \(now))",
                        logger: logger)
                }
            } catch {
                let cause = storeError(error, doing: "migration to version \(version)")
                throw StoreError(cause.isRetryable ? cause.code : .migration, cause.message)
            }
            logger.info("store schema migrated", metadata: [StoreMetadataKey.schemaVersion: "\(version)"])
        }
        return Schema.latestVersion
    }

    /// A stable 64-bit advisory lock key per schema (FNV-1a of a fixed prefix and the schema name).
    static func migrationLockKey(schema: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "herald.migrations/\(schema)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
