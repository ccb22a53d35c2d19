import Dispatch
import Glibc

/// Waits for SIGINT or SIGTERM.
enum Termination {
    static func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queue = DispatchQueue(label: "herald.signals")
            let resumed = SignalOnce(continuation)
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { resumed.fire() }
                source.resume()
                resumed.keep(source)
            }
        }
    }
}

/// Resumes the waiter on the first signal; keeps the signal sources alive meanwhile.
private final class SignalOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Void, Never>) {
        self.continuation = continuation
    }

    /// Called on the signals queue only (and once before any signal can fire).
    func keep(_ source: any DispatchSourceSignal) {
        sources.append(source)
    }

    func fire() {
        continuation?.resume()
        continuation = nil
    }
}
