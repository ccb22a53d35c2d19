import Synchronization

/// A value produced once, on any thread, and awaited once.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var continuation: CheckedContinuation<Value, Never>?
    }
    private let state = Mutex(State())

    func fulfill(_ value: Value) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, Never>? in
            if let continuation = state.continuation {
                state.continuation = nil
                return continuation
            }
            state.value = value
            return nil
        }
        continuation?.resume(returning: value)
    }

    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Collects `count` indexed results produced on any thread.
final class BatchCompletion<Element: Sendable>: Sendable {
    private struct State {
        var results: [Element?]
        var remaining: Int
    }
    private let state: Mutex<State>
    private let done = OneShot<[Element]>()

    init(count: Int) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count))
        if count == 0 { done.fulfill([]) }
    }

    func complete(_ index: Int, _ element: Element) {
        let finished = state.withLock { state -> [Element]? in
            state.results[index] = element
            state.remaining -= 1
            return state.remaining == 0 ? state.results.map { $0! } : nil
        }
        if let finished { done.fulfill(finished) }
    }

    func wait() async -> [Element] {
        await done.value()
    }
}
