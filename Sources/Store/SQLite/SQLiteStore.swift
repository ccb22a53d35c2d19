import Foundation
import Logging
import ServiceLifecycle

/// The embedded store: one SQLite file in WAL mode, for a single worker and the demo.
///
/// All SQL runs on one dedicated serial queue per store (one connection, one writer); other processes using the
/// same file (the CLI while a worker runs) wait in SQLite's busy handler up to ``StoreOptions/busyTimeout``.
/// Every batch is one `BEGIN IMMEDIATE` transaction.
public final class SQLiteStore: HeraldStore {
    let connection: SQLiteConnection
    let logger: Logger
    public let redactedURL: String

    /// Opens (creating if needed) the database at the absolute `path`.
    public static func open(
        path: String, synchronous: StoreURL.SQLiteSynchronous = .full, options: StoreOptions = StoreOptions(),
        logger: Logger
    ) async throws -> SQLiteStore {
        let connection = try await SQLiteConnection.open(
            path: path, synchronous: synchronous, busyTimeout: options.busyTimeout)
        return SQLiteStore(connection: connection, url: "sqlite://\(path)", logger: logger)
    }

    private init(connection: SQLiteConnection, url: String, logger: Logger) {
        self.connection = connection
        self.redactedURL = url
        var logger = logger
        logger[metadataKey: StoreMetadataKey.store] = "\(url)"
        self.logger = logger
    }

    /// Nothing runs in the background: waits for graceful shutdown (or cancellation), then closes the file.
    public func run() async throws {
        try? await gracefulShutdown()
        await connection.close()
    }

    /// Closes the file now.
    public func close() async {
        await connection.close()
    }

    /// `PRAGMA user_version` is the schema version; migrations run in one `BEGIN IMMEDIATE` transaction, so a
    /// second process starting at the same time waits, then finds the schema current.
    @discardableResult
    public func migrate() async throws -> Int {
        let logger = self.logger
        return try await connection.run { db in
            try db.transaction {
                let current = Int(try db.query("PRAGMA user_version").first?.first?.integer ?? 0)
                guard current <= Schema.latestVersion else {
                    throw StoreError(
                        .migration,
                        "database schema version \(current) is newer than this build's \(Schema.latestVersion)")
                }
                for version in (current + 1)..<(Schema.latestVersion + 1) {
                    do {
                        for statement in Schema.sqlite[version - 1] { try db.execute(statement) }
                    } catch let error as StoreError {
                        throw StoreError(.migration, "migration to version \(version) failed: \(error.message)")
                    }
                    try db.execute("PRAGMA user_version = \(version)")
                    logger.info("store schema migrated", metadata: [StoreMetadataKey.schemaVersion: "\(version)"])
                }
                return Schema.latestVersion
            }
        }
    }

    /// Runs `body` in one write transaction on the store's queue.
    func write<T: Sendable>(
        function: String = #function, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        try await StoreMetrics.timed(function) {
            try await connection.run { db in try db.transaction { try body(db) } }
        }
    }

    /// Runs `body` (reads) on the store's queue.
    func read<T: Sendable>(
        function: String = #function, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        try await StoreMetrics.timed(function) { try await connection.run(body) }
    }
}

/// Metadata keys the store logs with.
enum StoreMetadataKey {
    static let store = "store"
    static let schemaVersion = "store.schema_version"
    static let error = "store.error"
    static let topic = "store.references_topic"
}
