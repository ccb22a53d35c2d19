import Metrics
import Synchronization

/// `herald_store_operation_duration_seconds{operation}`: how long each store call took, successful or not.
/// The operation is the store method's name (`claim`, `markSent`, `deferredCount` ...): the same set for both
/// backends, and never anything from the data.
enum StoreMetrics {
    static let operationDuration = "herald_store_operation_duration_seconds"

    private static let timers = Mutex<[String: Timer]>([:])

    /// Runs `body`, timing it under `function`'s base name.
    static func timed<T>(_ function: String, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        defer { record(function, ContinuousClock.now - started) }
        return try await body()
    }

    private static func record(_ function: String, _ duration: Duration) {
        let timer = timers.withLock { timers in
            if let timer = timers[function] { return timer }
            let name = function.prefix { $0 != "(" }
            let timer = Timer(label: operationDuration, dimensions: [("operation", String(name))])
            timers[function] = timer
            return timer
        }
        timer.record(duration: duration)
    }
}
