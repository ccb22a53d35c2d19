import RateLimiting

/// When the next send may go out, under Teams' per-conversation windows and this worker's share of the
/// per-tenant budget. The engine asks before every call and sleeps for the answer, so Teams sees (almost) no
/// request it would refuse.
///
/// Deliveries to one conversation are sequential (``Lanes``), so each conversation's reservations come in
/// time order. A plain struct: the engine keeps it behind a lock.
public struct RateGovernor: Sendable {
    private let conversationWindows: [SlidingWindowLimiter.Window]
    private let longestWindow: Duration
    private let tenantBudget: Double
    private var share: Double
    private var conversations: [String: (limiter: SlidingWindowLimiter, lastSend: ContinuousClock.Instant)] = [:]
    private var tenants: [String: AdaptiveRate] = [:]
    /// Per tenant, the requests that actually left in the last second (see ``confirm(tenant:now:)``).
    private var sent: [String: SlidingWindowLimiter] = [:]

    /// - Parameters:
    ///   - conversationWindows: `delivery.rateLimits.perConversation` (Teams': 7/1 s, 8/2 s, 60/30 s, 1800/3600 s).
    ///   - tenantBudget: `delivery.rateLimits.perTenantPerSecond`, for the whole group.
    ///   - share: this worker's fraction of the group's work (k of n partitions: k/n).
    public init(conversationWindows: [SlidingWindowLimiter.Window], tenantBudget: Double, share: Double = 1) {
        precondition(tenantBudget > 0 && share > 0 && share <= 1, "a budget and a share in (0, 1] are needed")
        self.conversationWindows = conversationWindows
        self.longestWindow = conversationWindows.map(\.length).max() ?? .zero
        self.tenantBudget = tenantBudget
        self.share = share
    }

    /// Conversations whose recent sends are remembered.
    public var trackedConversations: Int { conversations.count }

    /// Reserves a send to `conversation` of `tenant` and returns how long from `now` to wait before it.
    public mutating func reserve(conversation: String, tenant: String, now: ContinuousClock.Instant) -> Duration {
        var entry = conversations[conversation] ?? (SlidingWindowLimiter(windows: conversationWindows), now)
        let conversationReady = now + (entry.limiter.wait(now: now) ?? .zero)
        var rate = tenants[tenant] ?? AdaptiveRate(ceiling: tenantBudget * share, now: now)
        let sendAt = conversationReady + rate.reserve(now: conversationReady)
        tenants[tenant] = rate
        entry.limiter.record(now: sendAt)
        entry.lastSend = sendAt
        conversations[conversation] = entry
        return sendAt - now
    }

    /// Checks the moment a request really leaves, after sleeping for its reservation: returns nil (and counts
    /// it) when fewer than this worker's share of the tenant budget left in the last second, else how long to
    /// wait before asking again. Reservations space requests evenly, but a stalled process wakes several of
    /// them at once; this keeps such a bunch from exceeding the budget in any one-second window.
    public mutating func confirm(tenant: String, now: ContinuousClock.Instant) -> Duration? {
        let limit = max(1, Int(tenantBudget * share))
        var limiter = sent[tenant] ?? SlidingWindowLimiter(windows: [.init(count: limit, length: .seconds(1))])
        let wait = limiter.admit(now: now)
        sent[tenant] = limiter
        return wait
    }

    /// Teams answered 429 for `tenant`: its rate halves, and nothing goes to it before `retryAfter`.
    public mutating func throttled(tenant: String, retryAfter: Duration?, now: ContinuousClock.Instant) {
        var rate = tenants[tenant] ?? AdaptiveRate(ceiling: tenantBudget * share, now: now)
        rate.throttled(now: now, retryAfter: retryAfter)
        tenants[tenant] = rate
    }

    /// This worker's share changed (a rebalance): every tenant's rate is rescaled to the new ceiling.
    public mutating func setShare(_ share: Double, now: ContinuousClock.Instant) {
        precondition(share > 0 && share <= 1, "a share is in (0, 1]")
        self.share = share
        sent = [:]  // rebuilt with the new share's count
        for tenant in Array(tenants.keys) {
            tenants[tenant]!.setCeiling(tenantBudget * share, now: now)
        }
    }

    /// The current send rate for `tenant`, in requests per second.
    public func rate(tenant: String) -> Double {
        tenants[tenant]?.rate ?? tenantBudget * share
    }

    /// Forgets conversations with no send within the longest window: they are unconstrained again, and
    /// memory stays proportional to the conversations active in the last hour. Returns how many were dropped.
    @discardableResult
    public mutating func forgetIdle(now: ContinuousClock.Instant) -> Int {
        let before = conversations.count
        conversations = conversations.filter { now - $0.value.lastSend < longestWindow }
        return before - conversations.count
    }
}
