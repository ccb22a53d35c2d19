import Foundation

/// A task executor with a thread of its own. An emulator sharing a process with a busy worker (the demo) serves on
/// it, so its requests are not queued behind the worker's tasks on the shared cooperative pool: Teams answers on
/// machines of its own, and counts each request when it arrives, not when a busy client process lets it run.
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Unchecked: `jobs` and `stopped` are only touched under `condition`'s lock.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    /// Starts the thread, named `name`. The thread keeps the executor alive until ``stop()``.
    public init(name: String) {
        let thread = Thread { self.serve() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    /// Ends the thread once the jobs already queued have run.
    public func stop() {
        self.condition.lock()
        self.stopped = true
        self.condition.signal()
        self.condition.unlock()
    }

    private func serve() {
        while true {
            self.condition.lock()
            while self.jobs.isEmpty, !self.stopped { self.condition.wait() }
            if self.jobs.isEmpty {
                self.condition.unlock()
                return
            }
            let batch = self.jobs
            self.jobs.removeAll(keepingCapacity: true)
            self.condition.unlock()
            for job in batch { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }
}
