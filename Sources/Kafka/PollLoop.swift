import Dispatch
import Synchronization

/// Runs a blocking librdkafka call in a loop on a dedicated thread, off Swift's cooperative pool.
final class PollLoop: Sendable {
    private let running = Atomic<Bool>(true)
    private let stopped = DispatchSemaphore(value: 0)

    /// Starts looping at once; `iteration` must return within its own short timeout.
    init(label: String, iteration: @escaping @Sendable () -> Void) {
        let stopped = self.stopped
        DispatchQueue(label: label).async { [self] in
            while self.running.load(ordering: .relaxed) {
                iteration()
            }
            stopped.signal()
        }
    }

    /// Stops the loop and waits for the iteration in progress to return.
    func stop() async {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        let stopped = self.stopped
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                stopped.wait()
                continuation.resume()
            }
        }
    }
}

/// Runs one blocking librdkafka call on `queue` and resumes the caller with its result.
func runBlocking<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        queue.async { continuation.resume(returning: body()) }
    }
}
