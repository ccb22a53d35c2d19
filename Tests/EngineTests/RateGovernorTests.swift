import Engine
import RateLimiting
import Testing

@Suite("The rate governor: Teams' conversation windows and the tenant budget, with an injected clock")
struct RateGovernorTests {
    private let start = ContinuousClock.now
    private let teams = [
        SlidingWindowLimiter.Window(count: 7, length: .seconds(1)),
        SlidingWindowLimiter.Window(count: 8, length: .seconds(2)),
        SlidingWindowLimiter.Window(count: 60, length: .seconds(30)),
        SlidingWindowLimiter.Window(count: 1800, length: .seconds(3600)),
    ]

    /// Reserves `count` sends back to back at `start` and returns their send times after `start`.
    private func sendTimes(
        _ governor: inout RateGovernor, count: Int, conversation: (Int) -> String, tenant: String = "t"
    ) -> [Duration] {
        (0..<count).map { governor.reserve(conversation: conversation($0), tenant: tenant, now: start) }
    }

    @Test func oneConversationNeverExceedsTeamsWindows() {
        var governor = RateGovernor(conversationWindows: teams, tenantBudget: 1_000)
        let times = sendTimes(&governor, count: 100) { _ in "a:1" }
        #expect(busiest(times, within: .seconds(1)) <= 7)
        #expect(busiest(times, within: .seconds(2)) <= 8)
        #expect(busiest(times, within: .seconds(30)) <= 60)
        #expect(times[7] >= .seconds(1), "the 8th send waits for the first to leave the 1 s window")
        #expect(times == times.sorted(), "a conversation's sends keep their order")
    }

    @Test func theTenantBudgetIsSpreadOverItsConversations() {
        var governor = RateGovernor(conversationWindows: teams, tenantBudget: 50)
        let times = sendTimes(&governor, count: 500) { "a:\($0)" }
        #expect(busiest(times, within: .seconds(1)) <= 50)
        #expect(times.max()! < .seconds(10), "500 sends at 50/s take under 10 s: the budget is used, not wasted")
        // Another tenant is not held back by this one.
        #expect(governor.reserve(conversation: "b:1", tenant: "other", now: start) == .zero)
    }

    @Test func aWorkerUsesItsShareAndA429SlowsOnlyThatTenant() {
        var governor = RateGovernor(conversationWindows: teams, tenantBudget: 60, share: 1.0 / 3)
        #expect(governor.rate(tenant: "t") == 20)
        let times = sendTimes(&governor, count: 100) { "a:\($0)" }
        #expect(busiest(times, within: .seconds(1)) <= 20)
        governor.throttled(tenant: "t", retryAfter: .seconds(3), now: start)
        #expect(governor.rate(tenant: "t") == 10)
        #expect(governor.rate(tenant: "u") == 20)
        let later = governor.reserve(conversation: "a:new", tenant: "t", now: start)
        #expect(later >= .seconds(3), "nothing goes to a throttled tenant before Retry-After")
        governor.setShare(1.0 / 2, now: start)
        #expect(governor.rate(tenant: "t") == 15, "a rebalance rescales, keeping the slowdown")
    }

    /// A request the tenant check held back leaves later than its reservation: its conversation's windows count
    /// it from when it left, so the conversation's next request is not planned too early.
    @Test func aRequestHeldBackCountsForItsConversationFromWhenItLeft() {
        var governor = RateGovernor(conversationWindows: [.init(count: 1, length: .seconds(1))], tenantBudget: 1000)
        #expect(governor.reserve(conversation: "c", tenant: "t", now: start) == .zero)
        // Reserved for 0 ms, it really left at 600 ms.
        #expect(
            governor.confirm(tenant: "t", conversation: "c", reserved: start, now: start + .milliseconds(600)) == nil)
        let next = governor.reserve(conversation: "c", tenant: "t", now: start + .seconds(1))
        #expect(next == .milliseconds(600), "the next waits until the first's real departure leaves the window")
    }

    @Test func requestsWokenTogetherAfterAStallStillKeepTheBudgetPerSecond() {
        var governor = RateGovernor(conversationWindows: teams, tenantBudget: 10)
        // Twenty reservations spaced 100 ms apart; the process then stalls and they all wake at 1 s.
        for index in 0..<20 { _ = governor.reserve(conversation: "a:\(index)", tenant: "t", now: start) }
        let woken = start + .seconds(1)
        let admitted = (0..<20).filter { _ in governor.confirm(tenant: "t", now: woken) == nil }.count
        #expect(admitted == 10, "no more than the budget leaves in one second, however many woke")
        let wait = governor.confirm(tenant: "t", now: woken)
        #expect(wait == .seconds(1), "the rest wait for the window")
        #expect(governor.confirm(tenant: "other", now: woken) == nil, "other tenants are not held back")
    }

    @Test func requestsWhoseTravelTimesVaryStillArriveWithinTheBudgetPerSecond() {
        // 600 requests ask to leave every 10 ms (100/s) against a budget of 50/s; each takes up to 80 ms to
        // reach Teams, and the governor has seen an 80 ms round trip.
        var governor = RateGovernor(
            conversationWindows: teams, tenantBudget: 50, jitterBounds: .milliseconds(5) ... .milliseconds(250))
        governor.observe(roundTrip: .milliseconds(80), now: start)
        #expect(governor.jitterAllowance(now: start) == .milliseconds(80))
        var generator = SystemRandomNumberGenerator()
        var arrivals: [Duration] = []
        var now = start
        var pending = 600
        while pending > 0 {
            if governor.confirm(tenant: "t", now: now) == nil {
                pending -= 1
                // The slowest keep the allowance current, as the engine's answers do.
                governor.observe(roundTrip: .milliseconds(80), now: now)
                arrivals.append(now - start + .milliseconds(Int64.random(in: 0...80, using: &generator)))
            } else {
                now += .milliseconds(10)
            }
        }
        #expect(busiest(arrivals, within: .seconds(1)) <= 50, "Teams never sees more than the budget in a second")
        // Twelve bursts of 50, 1.08 s apart: the last leaves at about 11.9 s (without the allowance: 11 s).
        let elapsed = now - start
        #expect(elapsed >= .milliseconds(11_500) && elapsed <= .milliseconds(12_500), "took \(elapsed)")
    }

    @Test func theJitterAllowanceFollowsRecentRoundTripsWithinItsBounds() {
        var governor = RateGovernor(
            conversationWindows: teams, tenantBudget: 50, jitterBounds: .milliseconds(5) ... .milliseconds(250))
        #expect(governor.jitterAllowance(now: start) == .milliseconds(5), "nothing seen yet: the floor")
        governor.observe(roundTrip: .milliseconds(2), now: start)
        #expect(governor.jitterAllowance(now: start) == .milliseconds(5))
        governor.observe(roundTrip: .seconds(3), now: start + .milliseconds(100))
        #expect(governor.jitterAllowance(now: start + .milliseconds(200)) == .milliseconds(250), "capped")
        governor.observe(roundTrip: .milliseconds(40), now: start + .milliseconds(1500))
        #expect(governor.jitterAllowance(now: start + .milliseconds(1600)) == .milliseconds(250), "within 2 s")
        governor.observe(roundTrip: .milliseconds(30), now: start + .milliseconds(3000))
        #expect(
            governor.jitterAllowance(now: start + .milliseconds(3100)) == .milliseconds(40), "the spike is forgotten")
        #expect(governor.jitterAllowance(now: start + .seconds(10)) == .milliseconds(5), "idle: back to the floor")
        // A tenant's sends are held to its budget over one second plus the allowance.
        var held = RateGovernor(
            conversationWindows: teams, tenantBudget: 10, jitterBounds: .milliseconds(100) ... .milliseconds(100))
        let admitted = (0..<20).filter { _ in held.confirm(tenant: "t", now: start) == nil }.count
        #expect(admitted == 10)
        #expect(held.confirm(tenant: "t", now: start + .seconds(1)) == .milliseconds(100))
        #expect(held.confirm(tenant: "t", now: start + .milliseconds(1100)) == nil)
    }

    @Test func idleConversationsAreForgottenAfterTheLongestWindow() {
        var governor = RateGovernor(conversationWindows: teams, tenantBudget: 1_000)
        _ = sendTimes(&governor, count: 10) { "a:\($0)" }
        #expect(governor.trackedConversations == 10)
        #expect(governor.forgetIdle(now: start + .seconds(1800)) == 0, "still within the hour window")
        #expect(governor.forgetIdle(now: start + .seconds(3601)) == 10)
        #expect(governor.trackedConversations == 0)
    }

    @Test func idleTenantsAreForgottenButAThrottledOneIsKeptUntilItsRetryAfter() {
        var governor = RateGovernor(
            conversationWindows: teams, tenantBudget: 10, jitterBounds: .milliseconds(5) ... .milliseconds(250))
        for index in 0..<100 {
            let tenant = "tenant-\(index)"
            _ = governor.reserve(conversation: "a:\(index)", tenant: tenant, now: start)
            #expect(governor.confirm(tenant: tenant, now: start) == nil)
        }
        governor.throttled(tenant: "tenant-0", retryAfter: .seconds(7200), now: start + .seconds(1))
        #expect(governor.trackedTenants == 100)
        _ = governor.forgetIdle(now: start + .seconds(60))
        #expect(governor.trackedTenants == 100, "their rates are within the hour, though no departure counts now")
        _ = governor.forgetIdle(now: start + .seconds(3601))
        #expect(governor.trackedTenants == 1, "only the tenant still inside its Retry-After")
        #expect(governor.reserve(conversation: "a:0", tenant: "tenant-0", now: start + .seconds(3601)) > .seconds(3000))
        // A forgotten tenant starts afresh at the full budget.
        #expect(governor.rate(tenant: "tenant-1") == 10)
        #expect(governor.reserve(conversation: "a:1", tenant: "tenant-1", now: start + .seconds(3601)) == .zero)
    }
}

/// How many of `times` fall in any window of `length` (the worst case).
func busiest(_ times: [Duration], within length: Duration) -> Int {
    let sorted = times.sorted()
    var best = 0
    var first = 0
    for last in sorted.indices {
        while sorted[last] - sorted[first] >= length { first += 1 }
        best = max(best, last - first + 1)
    }
    return best
}
