import BotConnector
import Synchronization

/// One task per key at a time: callers asking for a key already in progress wait for that task's answer
/// instead of starting their own (a thousand deliveries for one new user install once, look them up once).
final class Coalescing<Value: Sendable>: Sendable {
    private let inProgress = Mutex<[String: Task<Value, any Error>]>([:])

    init() {}

    /// `work`'s answer for `key`, from the task in progress or a new one.
    func value(
        for key: String, _ work: @escaping @Sendable () async throws(BotConnectorError) -> Value
    ) async throws(BotConnectorError) -> Value {
        let task = inProgress.withLock { running in
            if let task = running[key] { return task }
            let task = Task { () async throws -> Value in try await work() }
            running[key] = task
            return task
        }
        let result = await task.result
        inProgress.withLock { running in
            if running[key] == task { running[key] = nil }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error as BotConnectorError): throw error
        case .failure(let error): throw BotConnectorError(code: .connection, message: "\(error)")
        }
    }
}
