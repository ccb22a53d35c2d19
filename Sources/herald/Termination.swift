import Dispatch
import Glibc
import Synchronization

/// SIGINT and SIGTERM, caught from the moment ``install()`` is called: a signal before anyone waits is kept,
/// and one that arrives while ``exitsBeforeStart`` is set ends the process at once with status 0 (there is
/// nothing to drain yet: the store may still be opening).
final class Termination: Sendable {
    private struct State {
        var received = false
        var exitsBeforeStart = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "herald.signals")
    // Kept alive for the process's lifetime.
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    private init() {}

    /// Catches SIGINT and SIGTERM from now on.
    static func install(exitsBeforeStart: Bool = false) -> Termination {
        let termination = Termination()
        termination.state.withLock { $0.exitsBeforeStart = exitsBeforeStart }
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: termination.queue)
            source.setEventHandler { termination.fire() }
            source.resume()
            termination.sources.append(source)
        }
        return termination
    }

    /// Asks for a shutdown as a SIGTERM would (a part of the process failed).
    /// Unlike a signal it never exits at once: what is starting finishes starting, then drains.
    func request() {
        queue.async { self.fire(exitsBeforeStart: false) }
    }

    /// What was started can be drained now: a signal no longer exits at once but wakes ``wait()``.
    func started() {
        state.withLock { $0.exitsBeforeStart = false }
    }

    /// Returns once a signal has come (at once if one came already).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.received { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Ends the process with status 0 `limit` from now unless it ended by itself: the last guarantee that a
    /// SIGTERM ends Herald even when Kafka, the store and Teams all stopped answering and a C call blocks.
    /// `lastWords` is logged first. Nothing is lost: what was not committed is read again by the group.
    func exitIfStillRunning(after limit: Duration, lastWords: @escaping @Sendable () -> Void) {
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        queue.asyncAfter(deadline: .now() + seconds) {
            lastWords()
            fflush(nil)
            _exit(0)
        }
    }

    private func fire(exitsBeforeStart: Bool = true) {
        let (waiters, exitNow) = state.withLock { state in
            state.received = true
            defer { state.waiters = [] }
            return (state.waiters, state.exitsBeforeStart && exitsBeforeStart)
        }
        if exitNow {
            let message = "herald: stopped by a signal before the worker started\n"
            _ = message.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
            exit(0)
        }
        for waiter in waiters { waiter.resume() }
    }
}
