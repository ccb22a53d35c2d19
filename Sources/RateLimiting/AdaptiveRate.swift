/// A send rate that backs off when the service throttles and recovers gradually (additive increase,
/// multiplicative decrease), handing out evenly spaced send slots.
///
/// The engine keeps one per tenant: Teams allows an app a number of requests per second per tenant, and a
/// worker owning k of n partitions takes k/n of it (the ``ceiling``). Slots spaced `1/rate` apart keep every
/// window of a second or longer under the rate, whatever the traffic pattern.
public struct AdaptiveRate: Sendable {
    /// The rate this worker may use when nothing is throttled, in requests per second.
    public private(set) var ceiling: Double
    /// The current rate, in requests per second: the ceiling, or less after 429s.
    public private(set) var rate: Double
    /// How much of the ceiling is regained per second without a 429. Default: a tenth.
    public var recoveryPerSecond: Double = 0.1
    /// The rate never drops below this fraction of the ceiling. Default: 1/20.
    public var floorFraction: Double = 0.05
    /// At most one decrease per this long: the 429s of requests sent together (a burst the service counted
    /// against one window) are one signal, not several. Default: 1 s.
    public var decreaseInterval: Duration = .seconds(1)

    private var nextSlot: ContinuousClock.Instant?
    private var lastDecrease: ContinuousClock.Instant?
    private var lastAdjustment: ContinuousClock.Instant

    public init(ceiling: Double, now: ContinuousClock.Instant) {
        precondition(ceiling > 0, "a rate needs a positive ceiling")
        self.ceiling = ceiling
        self.rate = ceiling
        self.lastAdjustment = now
    }

    /// The last moment this rate was used or changed: its latest slot, or its latest adjustment if later.
    public var lastActivity: ContinuousClock.Instant { max(nextSlot ?? lastAdjustment, lastAdjustment) }

    /// Reserves the next send slot and returns how long from `now` until it (zero when it is now).
    public mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        recover(now: now)
        let slot = max(now, nextSlot ?? now)
        nextSlot = slot + .seconds(1 / rate)
        return slot - now
    }

    /// The service answered 429: halve the rate (once per ``decreaseInterval``), and send nothing before
    /// `retryAfter` when it said so.
    public mutating func throttled(now: ContinuousClock.Instant, retryAfter: Duration? = nil) {
        recover(now: now)
        if lastDecrease.map({ now - $0 >= decreaseInterval }) ?? true {
            rate = max(ceiling * floorFraction, rate / 2)
            lastDecrease = now
        }
        lastAdjustment = now
        if let retryAfter, retryAfter > .zero {
            nextSlot = max(nextSlot ?? now, now + retryAfter)
        }
    }

    /// A new share of the budget (after a rebalance); the current rate keeps its fraction of the ceiling.
    public mutating func setCeiling(_ ceiling: Double, now: ContinuousClock.Instant) {
        precondition(ceiling > 0, "a rate needs a positive ceiling")
        recover(now: now)
        rate = rate / self.ceiling * ceiling
        self.ceiling = ceiling
    }

    private mutating func recover(now: ContinuousClock.Instant) {
        guard rate < ceiling else {
            lastAdjustment = now
            return
        }
        let elapsed = now - lastAdjustment
        guard elapsed > .zero else { return }
        let (seconds, attoseconds) = elapsed.components
        let elapsedSeconds = Double(seconds) + Double(attoseconds) / 1e18
        rate = min(ceiling, rate + ceiling * recoveryPerSecond * elapsedSeconds)
        lastAdjustment = now
    }
}
