import Synchronization

/// Runs `body` and returns its result, or throws `timedOut()` once `limit` has passed, whichever comes first.
///
/// Unlike a task group racing a sleep, this does not wait for `body` to notice its cancellation: a query sent
/// on a connection the server dropped during a restart never answers and ignores cancellation, and a task
/// group would wait for it forever (measured: two workers stopped for good when PostgreSQL restarted). Here
/// `body` is cancelled and left to end on its own; the caller retries on a fresh connection.
public func abandoning<T: Sendable>(
    after limit: Duration, _ body: @escaping @Sendable () async throws -> T,
    timedOut: @escaping @Sendable () -> any Error
) async throws -> T {
    let work = Task { try await body() }
    let once = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            once.set(continuation)
            let timer = Task {
                try await Task.sleep(for: limit)
                work.cancel()
                once.resume(with: .failure(timedOut()))
            }
            Task {
                let result = await work.result
                timer.cancel()
                once.resume(with: result)
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// The task's result if it ends within `limit`; nil after it, leaving the task running (unlike ``abandoning``, the
/// work is not cancelled: the caller answers at the deadline and may act on the late result).
public func result<T: Sendable>(of task: Task<T, any Error>, within limit: Duration) async -> Result<T, any Error>? {
    let once = ResumeOnce<Result<T, any Error>?>()
    return try? await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        let timer = Task {
            do { try await Task.sleep(for: limit) } catch { return }
            once.resume(with: .success(nil))
        }
        Task {
            let result = await task.result
            once.resume(with: .success(result))
            timer.cancel()
        }
    }
}

/// Resumes a continuation exactly once, whichever side comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ value: CheckedContinuation<T, any Error>) {
        continuation.withLock { $0 = value }
    }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
