/// How a loop retries a call that failed: how many attempts it gets and how long it waits between them.
/// Every retry loop in Herald (store calls, Kafka produces, Teams requests, Graph calls) uses one of these,
/// so they all back off the same way: capped exponential backoff with full jitter (``Backoff``), and a
/// `Retry-After` the service sent wins.
public struct RetryPolicy: Sendable, Hashable {
    public var backoff: Backoff
    /// Attempts in all, the first included; nil: retry until the caller stops (the store and Kafka loops
    /// stop when their delivery or record is no longer theirs).
    public var maxAttempts: Int?
    /// Delays never grow past the one for this failure count, whatever `backoff.cap` allows: a loop that must
    /// notice it should stop keeps its waits short. Nil: no such limit.
    public var growthLimit: Int?

    public init(backoff: Backoff, maxAttempts: Int? = nil, growthLimit: Int? = nil) {
        precondition(maxAttempts.map { $0 >= 1 } ?? true, "a retry policy needs at least one attempt")
        self.backoff = backoff
        self.maxAttempts = maxAttempts
        self.growthLimit = growthLimit
    }

    /// Whether a call that failed `failures` times (1 after the first failure) may be tried again.
    public func allowsRetry(afterFailures failures: Int) -> Bool {
        guard let maxAttempts else { return true }
        return failures < maxAttempts
    }

    /// How long to wait after failure number `failures` before trying again.
    public func delay(
        afterFailures failures: Int, retryAfter: Duration? = nil, using generator: inout some RandomNumberGenerator
    ) -> Duration {
        backoff.delay(attempt: min(failures, growthLimit ?? failures), retryAfter: retryAfter, using: &generator)
    }

    /// ``delay(afterFailures:retryAfter:using:)`` with the system's random numbers.
    public func delay(afterFailures failures: Int, retryAfter: Duration? = nil) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, retryAfter: retryAfter, using: &generator)
    }
}

extension RetryPolicy {
    /// A store call on the delivery path: retried while the delivery is live, 50 ms growing to 1 s, so a
    /// store back from an outage is used again within a second.
    public static let store = RetryPolicy(backoff: Backoff(base: .milliseconds(50), cap: .seconds(1)))

    /// A Graph read that has not caught up with a write yet (an installation made moments ago): 250 ms growing
    /// to 4 s, for as long as the caller's deadline allows.
    public static let graphSettling = RetryPolicy(backoff: Backoff(base: .milliseconds(250), cap: .seconds(4)))

    /// Microsoft Graph calls (proactive installation): 12 attempts, 500 ms growing to 30 s.
    public static let graph = RetryPolicy(
        backoff: Backoff(base: .milliseconds(500), cap: .seconds(30)), maxAttempts: 12)
}
