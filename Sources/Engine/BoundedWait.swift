import Synchronization

/// Waits for `body` at most `limit`: true when it finished in time. When it did not, `body` goes on in the
/// background and the caller moves on; for steps that may block in C (librdkafka's close and commit, a store
/// that stopped answering) at shutdown, where waiting forever is worse than leaving work to the group.
func finishes(within limit: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let once = ResumeOnce()
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        once.set(continuation)
        // Unstructured on purpose: a task group would wait for the body, which is what must not be waited for.
        Task {
            await body()
            once.resume(true)
        }
        Task {
            try? await Task.sleep(for: limit)
            once.resume(false)
        }
    }
}

/// Resumes a continuation exactly once, whichever side comes first.
private final class ResumeOnce: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func set(_ value: CheckedContinuation<Bool, Never>) { continuation.withLock { $0 = value } }

    func resume(_ value: Bool) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
