import DequeModule
import RateLimiting

/// When the next send may go out, under Teams' per-conversation windows and this worker's share of the
/// per-tenant budget. The engine asks before every call and sleeps for the answer, so Teams sees (almost) no
/// request it would refuse.
///
/// Deliveries to one conversation are sequential (``Lanes``), so each conversation's reservations come in
/// time order. A plain struct: the engine keeps it behind a lock.
public struct RateGovernor: Sendable {
    private let conversationWindows: [SlidingWindowLimiter.Window]
    private let memberReadWindows: [SlidingWindowLimiter.Window]
    private let longestWindow: Duration
    private let tenantBudget: Double
    private let jitterBounds: ClosedRange<Duration>
    private var slowestRoundTrip = RecentMaximum()
    private var share: Double
    private var conversations: [String: (limiter: SlidingWindowLimiter, lastSend: ContinuousClock.Instant)] = [:]
    /// Member reads per conversation: Teams counts them in windows of their own.
    private var memberReads: [String: (limiter: SlidingWindowLimiter, lastSend: ContinuousClock.Instant)] = [:]
    private var tenants: [String: AdaptiveRate] = [:]
    /// Per tenant, the requests that actually left recently, oldest first (see ``confirm(tenant:now:)``).
    private var sent: [String: Deque<ContinuousClock.Instant>] = [:]

    /// - Parameters:
    ///   - conversationWindows: `delivery.rateLimits.perConversation` (Teams': 7/1 s, 8/2 s, 60/30 s, 1800/3600 s).
    ///   - memberReadWindows: reading a conversation's members (Teams': 14/1 s, 16/2 s, 120/30 s, 3600/3600 s).
    ///   - tenantBudget: `delivery.rateLimits.perTenantPerSecond`, for the whole group.
    ///   - jitterBounds: the least and the most allowed for requests reaching Teams later than others that left
    ///     at the same moment (see ``confirm(tenant:now:)``).
    ///   - share: this worker's fraction of the group's work (k of n partitions: k/n).
    public init(
        conversationWindows: [SlidingWindowLimiter.Window],
        memberReadWindows: [SlidingWindowLimiter.Window] = RateGovernor.teamsMemberReadWindows, tenantBudget: Double,
        jitterBounds: ClosedRange<Duration> = .zero ... .zero, share: Double = 1
    ) {
        precondition(tenantBudget > 0 && share > 0 && share <= 1, "a budget and a share in (0, 1] are needed")
        self.conversationWindows = conversationWindows
        self.memberReadWindows = memberReadWindows
        self.longestWindow = (conversationWindows + memberReadWindows).map(\.length).max() ?? .zero
        self.tenantBudget = tenantBudget
        self.jitterBounds = jitterBounds
        self.share = share
    }

    /// This worker's share of the tenant budget, in requests per second.
    private var pacedRate: Double { tenantBudget * share }

    /// How long a departure can matter to ``confirm(tenant:now:)``: one second plus the largest allowance.
    private var departureRetention: Duration { .seconds(1) + jitterBounds.upperBound }

    /// Conversations whose recent sends are remembered.
    public var trackedConversations: Int { conversations.count }

    /// Teams' limits on reading a conversation's members, per bot per conversation.
    public static let teamsMemberReadWindows: [SlidingWindowLimiter.Window] = [
        .init(count: 14, length: .seconds(1)), .init(count: 16, length: .seconds(2)),
        .init(count: 120, length: .seconds(30)), .init(count: 3600, length: .seconds(3600)),
    ]

    /// Reserves a send to `conversation` of `tenant` (a read of its members when `readsMembers`: their own
    /// windows, the same tenant budget) and returns how long from `now` to wait before it.
    public mutating func reserve(
        conversation: String, tenant: String, readsMembers: Bool = false, now: ContinuousClock.Instant
    ) -> Duration {
        // Taken out while it changes, so its history is not copied.
        let windows = readsMembers ? memberReadWindows : conversationWindows
        var entry =
            (readsMembers
                ? memberReads.removeValue(forKey: conversation) : conversations.removeValue(forKey: conversation))
            ?? (SlidingWindowLimiter(windows: windows), now)
        let conversationReady = now + (entry.limiter.wait(now: now) ?? .zero)
        var rate = tenants[tenant] ?? AdaptiveRate(ceiling: pacedRate, now: now)
        let sendAt = conversationReady + rate.reserve(now: conversationReady)
        tenants[tenant] = rate
        entry.limiter.record(now: sendAt)
        entry.lastSend = sendAt
        if readsMembers { memberReads[conversation] = entry } else { conversations[conversation] = entry }
        return sendAt - now
    }

    /// Checks the moment a request really leaves, after sleeping for its reservation: returns nil (and counts
    /// it) when fewer than this worker's share of the tenant budget left within the last second plus the jitter
    /// allowance, else how long to wait before asking again.
    ///
    /// Reservations space requests evenly, but a stalled process wakes several of them at once, and requests
    /// that leave evenly do not arrive evenly: one waits for a pooled connection or a busy thread and arrives
    /// later than the next. Teams counts arrivals. A request has surely arrived once its answer is back, so
    /// the allowance is the slowest round trip of the last two seconds (see ``observe(roundTrip:now:)``), kept
    /// within `jitterBounds`: when no more than the budget leaves within any second plus it, no more than the
    /// budget arrives within any second.
    ///
    /// When it admits the request, the conversation's windows count it from `now` rather than from when it was
    /// reserved (`reserved`, the reservation's `now` plus its wait): a request held back here leaves later than
    /// planned, and the conversation's next reservations must see when it really went.
    public mutating func confirm(
        tenant: String, conversation: String? = nil, readsMembers: Bool = false,
        reserved: ContinuousClock.Instant? = nil, now: ContinuousClock.Instant
    ) -> Duration? {
        let window = Duration.seconds(1) + jitterAllowance(now: now)
        // In place: a busy tenant's departures are thousands of instants, not to be copied on every request.
        let wait = Self.admit(
            &sent[tenant, default: Deque()], limit: max(1, Int(pacedRate)), window: window,
            retention: departureRetention, now: now)
        if wait == nil, let conversation, let reserved, now > reserved {
            if readsMembers {
                memberReads[conversation]?.limiter.move(reserved, to: now)
            } else {
                conversations[conversation]?.limiter.move(reserved, to: now)
            }
        }
        return wait
    }

    private static func admit(
        _ departures: inout Deque<ContinuousClock.Instant>, limit: Int, window: Duration, retention: Duration,
        now: ContinuousClock.Instant
    ) -> Duration? {
        while let first = departures.first, now - first > retention {
            departures.removeFirst()
        }
        // Departures are in time order: find the first within the window.
        var low = 0
        var high = departures.count
        while low < high {
            let middle = (low + high) / 2
            if now - departures[middle] >= window { low = middle + 1 } else { high = middle }
        }
        if departures.count - low >= limit {
            return departures[departures.count - limit] + window - now
        }
        departures.append(now)
        return nil
    }

    /// A Teams call that left when ``confirm(tenant:now:)`` admitted it took `roundTrip` to answer.
    public mutating func observe(roundTrip: Duration, now: ContinuousClock.Instant) {
        slowestRoundTrip.record(roundTrip, now: now)
    }

    /// The current jitter allowance (see ``confirm(tenant:now:)``).
    public func jitterAllowance(now: ContinuousClock.Instant) -> Duration {
        min(max(slowestRoundTrip.value(now: now), jitterBounds.lowerBound), jitterBounds.upperBound)
    }

    /// Teams answered 429 for `tenant`: its rate halves, and nothing goes to it before `retryAfter`.
    public mutating func throttled(tenant: String, retryAfter: Duration?, now: ContinuousClock.Instant) {
        var rate = tenants[tenant] ?? AdaptiveRate(ceiling: pacedRate, now: now)
        rate.throttled(now: now, retryAfter: retryAfter)
        tenants[tenant] = rate
    }

    /// This worker's share changed (a rebalance): every tenant's rate is rescaled to the new ceiling; the
    /// requests that already left keep counting against the new share's departure limit.
    public mutating func setShare(_ share: Double, now: ContinuousClock.Instant) {
        precondition(share > 0 && share <= 1, "a share is in (0, 1]")
        self.share = share
        for tenant in Array(tenants.keys) {
            tenants[tenant]!.setCeiling(pacedRate, now: now)
        }
    }

    /// The current send rate for `tenant`, in requests per second.
    public func rate(tenant: String) -> Double {
        tenants[tenant]?.rate ?? pacedRate
    }

    /// Tenants whose rate or recent departures are remembered.
    public var trackedTenants: Int { Set(tenants.keys).union(sent.keys).count }

    /// Forgets conversations with no send within the longest window: they are unconstrained again, and
    /// memory stays proportional to the conversations active in the last hour. Tenants go the same way (their
    /// rate has long recovered by then), and departures older than any confirm looks at. Returns how many
    /// conversations were dropped.
    @discardableResult
    public mutating func forgetIdle(now: ContinuousClock.Instant) -> Int {
        let before = conversations.count
        conversations = conversations.filter { now - $0.value.lastSend < longestWindow }
        memberReads = memberReads.filter { now - $0.value.lastSend < longestWindow }
        tenants = tenants.filter { now - $0.value.lastActivity < longestWindow }
        let retention = departureRetention
        sent = sent.filter { entry in entry.value.last.map { now - $0 <= retention } ?? false }
        return before - conversations.count
    }
}

/// The largest value recorded in the current and the previous one-second bucket: a maximum over the last one
/// to two seconds that forgets an old spike without keeping every sample.
struct RecentMaximum: Sendable {
    private var bucketStart: ContinuousClock.Instant?
    private var current = Duration.zero
    private var previous = Duration.zero

    mutating func record(_ value: Duration, now: ContinuousClock.Instant) {
        roll(now: now)
        current = max(current, value)
    }

    func value(now: ContinuousClock.Instant) -> Duration {
        guard let bucketStart else { return .zero }
        let age = now - bucketStart
        if age < .seconds(1) { return max(current, previous) }
        return age < .seconds(2) ? current : .zero
    }

    private mutating func roll(now: ContinuousClock.Instant) {
        guard let start = bucketStart else {
            bucketStart = now
            return
        }
        let age = now - start
        guard age >= .seconds(1) else { return }
        previous = age < .seconds(2) ? current : .zero
        current = .zero
        bucketStart = now
    }
}
