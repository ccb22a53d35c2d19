import Kafka
import Metrics
import Routing
import Synchronization

/// The worker's metrics, through swift-metrics (`herald run` exports them to Prometheus at `/metrics`).
///
/// Labels are low-cardinality only: statuses, error codes, operations, topics and partitions; never a user,
/// conversation or event id. The handlers are made once (or once per label value) and kept, so the hot path
/// does no registry lookups.
final class EngineMetrics: Sendable {
    /// The metric names, as dashboards and alerts use them.
    enum Name {
        static let eventsConsumed = "herald_events_consumed_total"
        static let deliveries = "herald_deliveries_total"
        static let retries = "herald_delivery_retries_total"
        static let throttled = "herald_teams_throttled_total"
        static let deadLetters = "herald_dead_letters_total"
        static let inFlight = "herald_deliveries_in_flight"
        static let deferred = "herald_deliveries_deferred"
        static let consumerLag = "herald_consumer_lag"
        static let sendDuration = "herald_send_duration_seconds"
        static let endToEndLatency = "herald_end_to_end_latency_seconds"
        static let rateLimiterWait = "herald_rate_limiter_wait_seconds"
        static let replayed = "herald_deliveries_replayed_total"
        static let resentUncertain = "herald_deliveries_resent_uncertain_total"
    }

    /// Teams operations, the `operation` label of ``Name/sendDuration``.
    enum Operation: String, Sendable, CaseIterable {
        case send, update, delete, createConversation, members, channels
    }

    private let consumedByTopic = Mutex<[String: Counter]>([:])
    private let outcomes = Mutex<[OutcomeKey: Counter]>([:])
    private let lagGauges = Mutex<[TopicPartition: Gauge]>([:])
    private let sendTimers: [Operation: Timer]
    let retries = Counter(label: Name.retries)
    /// 429s by the operation Teams refused (sends, updates, creates, member reads ...).
    let throttled: [Operation: Counter]
    let deadLetters = Counter(label: Name.deadLetters)
    let inFlight = Gauge(label: Name.inFlight)
    let deferred = Gauge(label: Name.deferred)
    let endToEnd = Timer(label: Name.endToEndLatency)
    let rateLimiterWait = Timer(label: Name.rateLimiterWait)
    /// Deliveries of records read again (after a crash, rebalance or outage) whose outcome was already
    /// published for that same record: nothing is published again.
    let replayed = Counter(label: Name.replayed)
    /// Deliveries a killed worker left uncertain that were sent again (`onUncertain: resend`).
    let resentUncertain = Counter(label: Name.resentUncertain)

    private struct OutcomeKey: Hashable {
        var status: DeliveryOutcome.Status
        var code: String
    }

    init() {
        var timers: [Operation: Timer] = [:]
        for operation in Operation.allCases {
            timers[operation] = Timer(label: Name.sendDuration, dimensions: [("operation", operation.rawValue)])
        }
        self.sendTimers = timers
        var throttled: [Operation: Counter] = [:]
        for operation in Operation.allCases {
            throttled[operation] = Counter(label: Name.throttled, dimensions: [("operation", operation.rawValue)])
        }
        self.throttled = throttled
    }

    func consumed(topic: String, count: Int) {
        let counter = consumedByTopic.withLock { counters in
            if let counter = counters[topic] { return counter }
            let counter = Counter(label: Name.eventsConsumed, dimensions: [("topic", topic)])
            counters[topic] = counter
            return counter
        }
        counter.increment(by: Int64(count))
    }

    /// One published outcome: counted by status and code (`none` without an error).
    func published(_ outcome: DeliveryOutcome) {
        let key = OutcomeKey(status: outcome.status, code: outcome.error?.code ?? "none")
        let counter = outcomes.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: Name.deliveries, dimensions: [("status", key.status.rawValue), ("code", key.code)])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func sent(_ operation: Operation, duration: Duration) {
        sendTimers[operation]?.record(duration: duration)
    }

    /// This worker's lag per partition; partitions it no longer owns read 0 (their new owner reports them).
    func lag(_ lags: [PartitionLag]) {
        lagGauges.withLock { gauges in
            let owned = Set(lags.map(\.topicPartition))
            for (partition, gauge) in gauges where !owned.contains(partition) { gauge.record(0) }
            for lag in lags {
                let gauge =
                    gauges[lag.topicPartition]
                    ?? Gauge(
                        label: Name.consumerLag,
                        dimensions: [
                            ("topic", lag.topicPartition.topic), ("partition", "\(lag.topicPartition.partition)"),
                        ])
                gauges[lag.topicPartition] = gauge
                gauge.record(lag.lag ?? 0)
            }
        }
    }
}
