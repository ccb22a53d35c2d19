/// Capped exponential backoff with full jitter, as Microsoft's Teams guidance and the AWS architecture note
/// describe: the n-th retry waits a uniformly random time in `0...min(cap, base * 2^(n-1))`, so workers
/// that failed together do not retry together.
public struct Backoff: Sendable, Hashable {
    /// The ceiling of the first retry's delay.
    public var base: Duration
    /// No computed delay is longer (`delivery.maxRetryDelay`).
    public var cap: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        precondition(base > .zero && cap >= base, "backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
    }

    /// The ceiling for retry number `attempt` (1 for the first retry).
    public func ceiling(attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 40)
        return min(base * (1 << doublings), cap)
    }

    /// How long to wait before retry number `attempt`. A `retryAfter` the service sent wins: it says when
    /// capacity returns, and retrying earlier only earns another refusal.
    public func delay(
        attempt: Int, retryAfter: Duration? = nil, using generator: inout some RandomNumberGenerator
    ) -> Duration {
        if let retryAfter, retryAfter > .zero { return retryAfter }
        let ceiling = self.ceiling(attempt: attempt)
        let nanoseconds = Int64(min(ceiling / .nanoseconds(1), Double(Int64.max)))
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &generator))
    }

    /// ``delay(attempt:retryAfter:using:)`` with the system's random numbers.
    public func delay(attempt: Int, retryAfter: Duration? = nil) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, retryAfter: retryAfter, using: &generator)
    }
}
