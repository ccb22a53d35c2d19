import Logging
import ServiceLifecycle

/// The store `url` names: ``SQLiteStore`` for `sqlite:///path`, ``PostgresStore`` for `postgres://...`.
/// Run its `run()` (a `Service`) while using it, and call ``HeraldStore/migrate()`` at start-up.
public func makeStore(
    url: String, logger: Logger, options: StoreOptions = StoreOptions()
) async throws -> any HeraldStore {
    switch try StoreURL(parsing: url) {
    case .sqlite(let path, let synchronous):
        return try await SQLiteStore.open(path: path, synchronous: synchronous, options: options, logger: logger)
    case .postgres(let postgres):
        return PostgresStore(url: postgres, options: options, logger: logger)
    }
}

/// Opens the store, runs it, migrates it (unless `migrate` is false), passes it to `body`, then shuts it down:
/// for commands and tests that use a store for a while.
public func withStore<T: Sendable>(
    url: String, logger: Logger, options: StoreOptions = StoreOptions(), migrate: Bool = true,
    _ body: @Sendable (any HeraldStore) async throws -> T
) async throws -> T {
    let store = try await makeStore(url: url, logger: logger, options: options)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await store.run() }
        defer { group.cancelAll() }
        if migrate { try await store.migrate() }
        return try await body(store)
    }
}
