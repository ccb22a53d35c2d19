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

    /// How many of `times` fall in any window of `length` (the worst case).
    private func busiest(_ times: [Duration], within length: Duration) -> Int {
        let sorted = times.sorted()
        var best = 0
        var first = 0
        for last in sorted.indices {
            while sorted[last] - sorted[first] >= length { first += 1 }
            best = max(best, last - first + 1)
        }
        return best
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

    @Test func idleConversationsAreForgottenAfterTheLongestWindow() {
        var governor = RateGovernor(conversationWindows: teams, tenantBudget: 1_000)
        _ = sendTimes(&governor, count: 10) { "a:\($0)" }
        #expect(governor.trackedConversations == 10)
        #expect(governor.forgetIdle(now: start + .seconds(1800)) == 0, "still within the hour window")
        #expect(governor.forgetIdle(now: start + .seconds(3601)) == 10)
        #expect(governor.trackedConversations == 0)
    }
}
