import RateLimiting
import Testing

@testable import TeamsEmulator

@Suite("Teams' limit windows, with an injected clock")
struct SlidingWindowLimiterTests {
    private let start = ContinuousClock.now

    private func admitted(_ limiter: inout SlidingWindowLimiter, count: Int, at offset: Duration) -> Int {
        var admitted = 0
        for _ in 0..<count where limiter.admit(now: self.start + offset) == nil { admitted += 1 }
        return admitted
    }

    @Test("7 per second: the 8th in the same second waits until the first leaves the window")
    func perSecond() {
        var limiter = SlidingWindowLimiter(windows: LimitMode.teams.conversationWindows!)
        #expect(self.admitted(&limiter, count: 7, at: .zero) == 7)
        let wait = limiter.admit(now: self.start + .milliseconds(400))
        #expect(wait == .milliseconds(600))
        let stillWaiting = limiter.admit(now: self.start + .milliseconds(999))
        #expect(stillWaiting != nil)
        // At 1 s the first second's requests are out of the 1 s window, but 8 per 2 s still binds.
        #expect(self.admitted(&limiter, count: 3, at: .seconds(1)) == 1)
        let later = limiter.admit(now: self.start + .seconds(2))
        #expect(later == nil)
    }

    /// Calls are counted when they arrived, and one that arrived first can be served second: recorded out of
    /// order, the history stays in time order, so windows open exactly when the arrivals leave them.
    @Test("requests recorded out of order are kept in time order; a moved one counts from its new time")
    func outOfOrder() {
        var limiter = SlidingWindowLimiter(windows: [.init(count: 2, length: .seconds(1))])
        limiter.record(now: self.start + .milliseconds(300))
        limiter.record(now: self.start + .milliseconds(100))
        #expect(
            limiter.wait(now: self.start + .milliseconds(500)) == .milliseconds(600), "the 100 ms one leaves at 1.1 s")
        // A request reserved for 100 ms that really left at 900 ms.
        limiter.move(self.start + .milliseconds(100), to: self.start + .milliseconds(900))
        #expect(
            limiter.wait(now: self.start + .milliseconds(1200)) == .milliseconds(100), "the 300 ms one leaves at 1.3 s")
        #expect(limiter.wait(now: self.start + .milliseconds(1300)) == nil)
    }

    @Test("60 per 30 s and 1800 per hour bind when the short windows do not")
    func longWindows() {
        var limiter = SlidingWindowLimiter(windows: LimitMode.teams.conversationWindows!)
        var admitted = 0
        // 4 requests every 2 s stays under 7/1 s and 8/2 s; after 15 rounds the 30 s window is full.
        for step in 0..<15 {
            admitted += self.admitted(&limiter, count: 4, at: .seconds(2 * step))
        }
        #expect(admitted == 60)
        let at29 = limiter.admit(now: self.start + .seconds(29))
        #expect(at29 == .seconds(1))
        let at30 = limiter.admit(now: self.start + .seconds(30))
        #expect(at30 == nil)

        var hourly = SlidingWindowLimiter(windows: LimitMode.teams.conversationWindows!)
        var total = 0
        for step in 0..<1800 {
            total += self.admitted(&hourly, count: 4, at: .seconds(2 * step))
        }
        #expect(total == 1800)
        let beforeHour = hourly.admit(now: self.start + .seconds(3599))
        #expect(beforeHour != nil)
        let afterHour = hourly.admit(now: self.start + .seconds(3600))
        #expect(afterHour == nil)
    }

    @Test("scaled:K multiplies every count; off has no windows")
    func scaled() throws {
        var limiter = SlidingWindowLimiter(windows: try #require(LimitMode("scaled:10")?.conversationWindows))
        #expect(self.admitted(&limiter, count: 100, at: .zero) == 70)
        #expect(LimitMode("scaled:10")?.tenantWindows?.first?.count == 500)
        #expect(LimitMode("off")?.conversationWindows == nil)
        #expect(LimitMode("scaled:0") == nil)
        #expect(LimitMode("fast") == nil)
    }

    @Test("the tenant allows 50 requests per second")
    func tenant() {
        var limiter = SlidingWindowLimiter(windows: LimitMode.teams.tenantWindows!)
        #expect(self.admitted(&limiter, count: 60, at: .zero) == 50)
        #expect(self.admitted(&limiter, count: 60, at: .seconds(1)) == 50)
    }
}
