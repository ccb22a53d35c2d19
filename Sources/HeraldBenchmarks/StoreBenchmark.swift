import Engine
import Foundation
import Store

/// Claims + state updates per second: `inFlight` deliveries at a time each go claim → markSent →
/// markOutcomePublished through a ``DeliveryLedger`` (so concurrent calls are batched), `deliveries` in all.
package struct StoreBenchmark: Sendable {
    package var deliveries: Int
    package var inFlight: Int

    package init(deliveries: Int = 20_000, inFlight: Int = 1000) {
        self.deliveries = deliveries
        self.inFlight = inFlight
    }

    package struct Result: Sendable, Codable, Hashable {
        package var backend: String
        package var deliveries: Int
        package var inFlight: Int
        package var seconds: Double
        /// Deliveries that went through claim + sent + published, per second.
        package var deliveriesPerSecond: Double
        /// Store operations (3 per delivery) per second.
        package var operationsPerSecond: Double
        /// Fresh deliveries that were not claimed (must be 0).
        package var notClaimed: Int
    }

    /// Runs against `store` (already migrated); delivery ids are fresh (`run` names them).
    package func run(store: any HeraldStore, backend: String, run: String = UUID().uuidString) async throws -> Result {
        let ledger = DeliveryLedger(store: store, worker: "bench-\(run)", lease: .seconds(60))
        let clock = ContinuousClock()
        let start = clock.now
        let notClaimed = try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            var failures = 0
            func add() {
                let id = "bench-\(run)-\(next)"
                next += 1
                group.addTask {
                    guard case .claimed = try await ledger.claim(id) else { return 1 }
                    try await ledger.markSent(
                        SentDelivery(
                            deliveryId: id, activityId: "a-\(id)", conversationId: "c", serviceUrl: "s", attempts: 1))
                    try await ledger.markOutcomePublished(id)
                    return 0
                }
            }
            while next < min(inFlight, deliveries) { add() }
            while let done = try await group.next() {
                failures += done
                if next < deliveries { add() }
            }
            return failures
        }
        let seconds = Double((clock.now - start).milliseconds) / 1000
        return Result(
            backend: backend, deliveries: deliveries, inFlight: inFlight, seconds: seconds,
            deliveriesPerSecond: Double(deliveries) / max(seconds, 0.001),
            operationsPerSecond: Double(deliveries * 3) / max(seconds, 0.001), notClaimed: notClaimed)
    }
}
