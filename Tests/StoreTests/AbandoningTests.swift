import Foundation
import Store
import Synchronization
import Testing

@Suite("Abandoning a call that does not answer", .timeLimit(.minutes(1)))
struct AbandoningTests {
    @Test func aCallThatIgnoresCancellationIsAbandonedAtItsLimit() async throws {
        // Like a query on a connection the server dropped: it neither answers nor notices cancellation; it ends
        // only when the test lets it. Waiting for it (as a task group racing a timer does) would hang here.
        let gate = Gate()
        let error = await #expect(throws: StoreError.self) {
            try await abandoning(
                after: .milliseconds(100), { await gate.wait() }, timedOut: { StoreError(.timeout, "no answer") })
        }
        #expect(error?.code == .timeout)
        #expect(!gate.passed, "the caller moved on while the call was still running")
        gate.open()
    }

    @Test func aCallThatAnswersInTimeGivesItsResultOrItsError() async throws {
        let value = try await abandoning(after: .seconds(5), { 42 }, timedOut: { StoreError(.timeout, "late") })
        #expect(value == 42)
        let error = await #expect(throws: StoreError.self) {
            try await abandoning(
                after: .seconds(5), { () async throws -> Int in throw StoreError(.query, "bad") },
                timedOut: { StoreError(.timeout, "late") })
        }
        #expect(error?.code == .query)
    }
}

/// A wait that only ``open()`` ends, whatever cancellation says.
private final class Gate: Sendable {
    private struct State {
        var opened = false
        var parked: CheckedContinuation<Void, Never>?
        var passed = false
    }

    private let state = Mutex(State())

    /// A ``wait()`` has returned.
    var passed: Bool { state.withLock { $0.passed } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.opened { return true }
                state.parked = continuation
                return false
            }
            if now { continuation.resume() }
        }
        state.withLock { $0.passed = true }
    }

    func open() {
        state.withLock { state in
            state.opened = true
            defer { state.parked = nil }
            return state.parked
        }?.resume()
    }
}
