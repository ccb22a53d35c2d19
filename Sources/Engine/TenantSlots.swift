/// Spaces the starts of one tenant's calls `1 / (perSecond × share)` apart, and holds a tenant back after a 429
/// for its `Retry-After`. `share` is this worker's fraction of the group's work (k of n partitions: k/n), so a
/// per-tenant budget holds for the whole consumer group, as the Bot Connector budget does.
struct TenantSlots: Sendable {
    var perSecond: Int
    var share: Double = 1
    private var nextStart: [String: ContinuousClock.Instant] = [:]

    init(perSecond: Int) {
        self.perSecond = max(1, perSecond)
    }

    /// When the tenant's next call may start (not before `now`); the slot is taken.
    mutating func take(_ tenant: String, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let interval = Duration.seconds(1) / (Double(perSecond) * share)
        let start = max(now, nextStart[tenant] ?? now)
        nextStart[tenant] = start + interval
        return start
    }

    /// No call of the tenant starts before `until`.
    mutating func hold(_ tenant: String, until: ContinuousClock.Instant) {
        nextStart[tenant] = max(nextStart[tenant] ?? until, until)
    }
}
