import Testing

@testable import BotConnector

@Suite("Token cache state machine, no I/O")
struct TokenStateMachineTests {
    typealias Machine = TokenProvider.StateMachine<Int>
    private let start = ContinuousClock.now

    @Test("the first caller fetches, later callers wait and all get the fetched token")
    func singleFlight() {
        var machine = Machine()
        #expect(machine.freshToken(now: self.start) == nil)
        guard case .resume(.fetch) = machine.acquire(now: self.start, waiter: 1) else {
            Issue.record("the first caller should fetch")
            return
        }
        for waiter in 2...5 {
            guard case .wait = machine.acquire(now: self.start, waiter: waiter) else {
                Issue.record("caller \(waiter) should wait for the refresh in flight")
                return
            }
        }
        let waiters = machine.fetched(token: "t1", refreshAt: self.start + .seconds(60))
        #expect(waiters == [2, 3, 4, 5])
        #expect(machine.freshToken(now: self.start + .seconds(59)) == "t1")
        #expect(machine.freshToken(now: self.start + .seconds(60)) == nil)
    }

    @Test("a failed refresh fails the waiters and lets the next caller try again")
    func failure() {
        var machine = Machine()
        _ = machine.acquire(now: self.start, waiter: 1)
        _ = machine.acquire(now: self.start, waiter: 2)
        #expect(machine.failed() == [2])
        guard case .resume(.fetch) = machine.acquire(now: self.start, waiter: 3) else {
            Issue.record("after a failure the next caller should fetch")
            return
        }
    }

    @Test("invalidating a stale token keeps a newer one; invalidating the current one forces a fetch")
    func invalidation() {
        var machine = Machine()
        _ = machine.acquire(now: self.start, waiter: 1)
        _ = machine.fetched(token: "new", refreshAt: self.start + .seconds(60))
        machine.invalidate("old")
        #expect(machine.freshToken(now: self.start) == "new")
        machine.invalidate("new")
        #expect(machine.freshToken(now: self.start) == nil)
        guard case .resume(.fetch) = machine.acquire(now: self.start, waiter: 2) else {
            Issue.record("an invalidated token should be fetched again")
            return
        }
    }
}
