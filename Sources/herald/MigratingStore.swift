import ServiceLifecycle
import Store

/// A store as a service of a command's `ServiceGroup`: runs it and applies missing schema migrations, then hands it
/// to `ready`, which adds the services that use it to the group. They exist only once the schema is current, as the
/// operations section promises (`/readyz` says `worker: starting` until then; the engine's metrics appear with the
/// worker). Listed before them, the store is shut down after them: a group shuts down in reverse order.
struct MigratingStore: Service {
    let store: any HeraldStore
    let ready: @Sendable (any HeraldStore) async throws -> Void

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            // Until the group's graceful shutdown reaches the store, after every part that uses it.
            group.addTask { try await store.run() }
            do {
                try await store.migrate()
            } catch {
                // Stopped while migrating: nothing has started, there is nothing to report.
                if Task.isShuttingDownGracefully { return }
                throw error
            }
            try await ready(store)
        }
    }
}
