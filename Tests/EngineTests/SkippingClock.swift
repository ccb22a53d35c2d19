import Engine
import Synchronization

/// A clock for tests whose time moves only when told (``advance(by:)``) or when something sleeps on it: a sleep
/// returns at once with the clock moved to its deadline, so waits cost no real time and stay in order.
final class SkippingClock: WorkerClock {
    private let instant = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func advance(by duration: Duration) {
        instant.withLock { $0 += duration }
    }

    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        instant.withLock { $0 = max($0, deadline) }
        await Task.yield()
    }
}
