import Foundation
import Store
import Testing

@Suite("Abandoning a call that does not answer")
struct AbandoningTests {
    @Test func aCallThatIgnoresCancellationIsAbandonedAtItsLimit() async throws {
        let started = ContinuousClock.now
        // Like a query on a connection the server dropped: it neither answers nor notices cancellation.
        let error = await #expect(throws: StoreError.self) {
            try await abandoning(
                after: .milliseconds(200), { ignoringCancellation(for: 3) },
                timedOut: { StoreError(.timeout, "no answer") })
        }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(2), "the caller did not wait for the call")
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

/// Blocks its thread for `seconds`, deaf to cancellation.
private func ignoringCancellation(for seconds: UInt32) {
    sleep(seconds)
}
