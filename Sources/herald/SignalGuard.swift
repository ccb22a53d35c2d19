import Dispatch
import Glibc
import Synchronization

/// What a `ServiceGroup`'s own handling of SIGINT and SIGTERM leaves to `herald run` and `herald gateway`: the
/// signals before there is anything to drain, and the last-resort bound on a drain.
///
/// - From ``install()`` until ``started()`` (the configuration loading, the store connecting or migrating: the
///   group may not even run yet), a signal ends the process at once with status 0. Nothing has been read yet, and
///   a store that does not answer would keep a graceful shutdown waiting.
/// - From then on the group drains on a signal. The signal (or ``shutdownBegan()``, when a part failed and the
///   group stops the rest) also arms the bound given to ``bound(after:lastWords:)``: should the process still run
///   when it expires, `lastWords` is logged and the process exits 0. That is the last guarantee that a SIGTERM ends
///   Herald when Kafka, the store and Teams all stopped answering and a C call blocks: the group's cancellation
///   cannot interrupt such a call, and its own last resort (`maximumCancellationDuration`) is a `fatalError`, not an
///   exit 0. Nothing is lost: what was not committed is read again by the consumer group.
final class SignalGuard: Sendable {
    private struct State {
        var started = false
        var bound: (limit: Duration, lastWords: @Sendable () -> Void)?
        var armed = false
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "herald.signals")
    // Kept alive for the process's lifetime. The group's own sources see the same signals (libdispatch hands every
    // signal to every source registered for it).
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    private init() {}

    /// Catches SIGINT and SIGTERM from now on.
    static func install() -> SignalGuard {
        let guarded = SignalGuard()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: guarded.queue)
            source.setEventHandler { guarded.fire() }
            source.resume()
            guarded.sources.append(source)
        }
        return guarded
    }

    /// Something can be drained now: a signal no longer exits at once (the group drains) but arms the bound.
    func started() {
        state.withLock { $0.started = true }
    }

    /// The last-resort bound a signal after ``started()`` arms: exit 0 `limit` after it, `lastWords` logged first.
    func bound(after limit: Duration, lastWords: @escaping @Sendable () -> Void) {
        state.withLock { $0.bound = (limit, lastWords) }
    }

    /// Arms the bound as a signal would: a part failed, and the group stops the rest.
    func shutdownBegan() {
        queue.async { self.arm() }
    }

    private func fire() {
        guard state.withLock({ $0.started }) else {
            let message = "herald: stopped by a signal before the worker started\n"
            _ = message.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
            exit(0)
        }
        arm()
    }

    /// On `queue`.
    private func arm() {
        let bound = state.withLock { state -> (limit: Duration, lastWords: @Sendable () -> Void)? in
            guard !state.armed, let bound = state.bound else { return nil }
            state.armed = true
            return bound
        }
        guard let (limit, lastWords) = bound else { return }
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        queue.asyncAfter(deadline: .now() + seconds) {
            lastWords()
            fflush(nil)
            _exit(0)
        }
    }
}
