import Kafka
import Routing
import Synchronization

/// What a worker has done so far: counts for the demo's summary and tests, mirrored into the process's metrics
/// (``EngineMetrics``). Thread-safe.
public final class EngineStats: Sendable {
    /// A copy of the counters at one moment.
    public struct Snapshot: Sendable {
        /// Records read from the events topics.
        public var recordsConsumed = 0
        /// Final outcomes published, by status and code (`delivered`, `failed/MessageWritesBlocked` ...).
        public var outcomes: [String: Int] = [:]
        /// `delivered` outcomes by route name.
        public var deliveredByRoute: [String: Int] = [:]
        /// `deferred` outcomes published (informational; a final one follows later).
        public var deferred = 0
        /// Records sent to the dead-letter topic.
        public var deadLettered = 0
        /// Teams requests made (creates, sends, updates, deletes, member pages).
        public var requests = 0
        /// Retries after a retryable error.
        public var retries = 0
        /// 429 answers received.
        public var throttled = 0
        /// 429 answers by the operation refused (`send`, `createConversation`, `members` ...).
        public var throttledByOperation: [String: Int] = [:]
        /// Deliveries admitted and not finished.
        public var inFlight = 0
        /// Outcomes not published again for records read again (their outcome was out already).
        public var replayed = 0
        /// Event time (or first sight) to final outcome, in milliseconds, of delivered/updated/deleted outcomes.
        public var latenciesMs: [Int] = []

        public init() {}

        /// Final outcomes published.
        public var finalOutcomes: Int { outcomes.values.reduce(0, +) }

        /// The `p`-th percentile (0...100) of ``latenciesMs``; nil without samples.
        public func latencyPercentile(_ p: Double) -> Int? {
            EngineStats.percentile(p, ofSorted: latenciesMs.sorted())
        }
    }

    private let state = Mutex(Snapshot())
    let metrics = EngineMetrics()
    /// Latency samples kept (the most recent win once full).
    private let maxLatencySamples = 200_000

    public init() {}

    /// The `p`-th percentile (0...100, nearest rank) of ascending `values`; nil when there are none.
    public static func percentile(_ p: Double, ofSorted values: [Int]) -> Int? {
        guard !values.isEmpty else { return nil }
        let index = Int((p / 100 * Double(values.count - 1)).rounded())
        return values[min(max(index, 0), values.count - 1)]
    }

    public func snapshot() -> Snapshot { state.withLock { $0 } }

    func consumed(_ batch: [KafkaMessage]) {
        state.withLock { $0.recordsConsumed += batch.count }
        guard var topic = batch.first?.topic else { return }
        var count = 0
        for message in batch {
            if message.topic != topic {
                metrics.consumed(topic: topic, count: count)
                topic = message.topic
                count = 0
            }
            count += 1
        }
        metrics.consumed(topic: topic, count: count)
    }

    func deadLettered() {
        state.withLock { $0.deadLettered += 1 }
        metrics.deadLetters.increment()
    }

    func request() { state.withLock { $0.requests += 1 } }

    func replayed() {
        state.withLock { $0.replayed += 1 }
        metrics.replayed.increment()
    }

    func retry() {
        state.withLock { $0.retries += 1 }
        metrics.retries.increment()
    }

    func throttled(_ operation: EngineMetrics.Operation) {
        state.withLock {
            $0.throttled += 1
            $0.throttledByOperation[operation.rawValue, default: 0] += 1
        }
        metrics.throttled[operation]?.increment()
    }

    func admitted(_ delta: Int) {
        let inFlight = state.withLock { stats in
            stats.inFlight += delta
            return stats.inFlight
        }
        metrics.inFlight.record(inFlight)
    }

    func published(_ outcome: DeliveryOutcome) {
        metrics.published(outcome)
        if let latency = outcome.latencyMs, [.delivered, .updated, .deleted].contains(outcome.status) {
            metrics.endToEnd.recordMilliseconds(latency)
        }
        state.withLock { stats in
            if outcome.status == .deferred {
                stats.deferred += 1
                return
            }
            let key = outcome.error.map { "\(outcome.status.rawValue)/\($0.code)" } ?? outcome.status.rawValue
            stats.outcomes[key, default: 0] += 1
            if outcome.status == .delivered, let route = outcome.route {
                stats.deliveredByRoute[route, default: 0] += 1
            }
            if let latency = outcome.latencyMs, [.delivered, .updated, .deleted].contains(outcome.status) {
                if stats.latenciesMs.count >= maxLatencySamples { stats.latenciesMs.removeFirst(maxLatencySamples / 2) }
                stats.latenciesMs.append(latency)
            }
        }
    }
}
