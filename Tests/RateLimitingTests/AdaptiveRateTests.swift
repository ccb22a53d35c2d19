import RateLimiting
import Testing

@Suite("A tenant's adaptive send rate, with an injected clock")
struct AdaptiveRateTests {
    private let start = ContinuousClock.now

    /// Send times of `count` requests reserved back to back at `at`.
    private func slots(_ rate: inout AdaptiveRate, count: Int, at offset: Duration = .zero) -> [Duration] {
        (0..<count).map { _ in offset + rate.reserve(now: start + offset) }
    }

    @Test("slots are spaced 1/rate apart, so no second holds more than the rate")
    func evenSpacing() {
        var rate = AdaptiveRate(ceiling: 50, now: start)
        let times = slots(&rate, count: 200)
        #expect(times.first == .zero)
        #expect(times.last == .milliseconds(20) * 199)
        for second in 0..<4 {
            let inSecond = times.filter { $0 >= .seconds(second) && $0 < .seconds(second + 1) }.count
            #expect(inSecond <= 50)
        }
        // An idle spell does not bank capacity for a burst later.
        let later = rate.reserve(now: start + .seconds(60))
        #expect(later == .zero)
        #expect(rate.reserve(now: start + .seconds(60)) == .milliseconds(20))
    }

    @Test("a 429 halves the rate (once per second) and honours Retry-After; the rate recovers a tenth of the ceiling per second")
    func throttleAndRecover() {
        var rate = AdaptiveRate(ceiling: 50, now: start)
        rate.throttled(now: start, retryAfter: .seconds(2))
        #expect(rate.rate == 25)
        #expect(rate.reserve(now: start) == .seconds(2), "nothing is sent before Retry-After")
        rate.throttled(now: start + .milliseconds(300))
        // 25 + 0.3 × 5 = 26.5: a second 429 from the same burst is the same signal, not a second halving.
        #expect(abs(rate.rate - 26.5) < 1e-9)
        rate.throttled(now: start + .seconds(1))
        // 26.5 + 0.7 × 5 = 30, halved: 15.
        #expect(abs(rate.rate - 15) < 1e-9)
        // Two seconds later: 15 + 2 × 5 = 25 requests/s.
        _ = rate.reserve(now: start + .seconds(3))
        #expect(abs(rate.rate - 25) < 1e-9)
        _ = rate.reserve(now: start + .seconds(60))
        #expect(rate.rate == 50, "recovery stops at the ceiling")
    }

    @Test("repeated 429s never take the rate below its floor")
    func floor() {
        var rate = AdaptiveRate(ceiling: 40, now: start)
        rate.decreaseInterval = .zero
        for _ in 0..<50 { rate.throttled(now: start) }
        #expect(rate.rate == 2)
    }

    @Test("a rebalance changes the share: the rate keeps its fraction of the new ceiling")
    func newShare() {
        var rate = AdaptiveRate(ceiling: 50, now: start)
        rate.setCeiling(50.0 / 3, now: start)
        #expect(abs(rate.rate - 50.0 / 3) < 1e-9)
        rate.throttled(now: start)
        rate.setCeiling(50, now: start)
        #expect(abs(rate.rate - 25) < 1e-9)
    }
}
