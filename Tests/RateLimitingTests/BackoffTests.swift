import RateLimiting
import TestSupport
import Testing

@Suite("Retry backoff with full jitter")
struct BackoffTests {
    @Test("ceilings double from the base and stop at the cap")
    func ceilings() {
        let backoff = Backoff(base: .milliseconds(500), cap: .seconds(5))
        #expect(
            (1...6).map { backoff.ceiling(attempt: $0) } == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5),
            ])
        #expect(backoff.ceiling(attempt: 10_000) == .seconds(5), "a huge attempt count neither overflows nor traps")
    }

    @Test("delays are spread over the whole range below the ceiling, never above it")
    func jitterSpreadsRetries() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(60))
        var generator = SeededRandom(seed: 42)
        let delays = (0..<2_000).map { _ in backoff.delay(attempt: 4, using: &generator) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(8) })
        // Full jitter: retries of workers that failed together land all over the window, not at its end.
        let early = delays.filter { $0 < .seconds(2) }.count
        let late = delays.filter { $0 > .seconds(6) }.count
        #expect(early > 300 && late > 300, "early \(early), late \(late) of 2000")
    }

    @Test("Retry-After from the service wins over the computed delay, even beyond the cap")
    func retryAfterWins() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(10))
        var generator = SeededRandom(seed: 7)
        #expect(backoff.delay(attempt: 1, retryAfter: .seconds(3), using: &generator) == .seconds(3))
        #expect(backoff.delay(attempt: 1, retryAfter: .seconds(30), using: &generator) == .seconds(30))
        #expect(backoff.delay(attempt: 1, retryAfter: .zero, using: &generator) <= .seconds(1))
    }
}
