import Testing

@testable import Store

@Suite("Batcher state machine")
struct BatcherStateTests {
    @Test func firstCallersLeadAndOthersQueue() {
        var state = BatcherState<String, Int>(maxLeaders: 1)
        let a = state.enqueue("a")
        let b = state.enqueue("b")
        #expect(a.leads)
        #expect(!b.leads)
        #expect(state.nextBatch(max: 10).map(\.1) == ["a", "b"])
        #expect(state.nextBatch(max: 10).isEmpty)
        #expect(state.stopLeading() == nil)
        #expect(state.leaders == 0)
        #expect(state.enqueue("c").leads, "with no leader left the next caller leads")
    }

    @Test func leadershipPassesToTheOldestQueuedCaller() {
        var state = BatcherState<String, Int>(maxLeaders: 1)
        _ = state.enqueue("a")
        _ = state.nextBatch(max: 10)
        let b = state.enqueue("b")
        let c = state.enqueue("c")
        #expect(!b.leads && !c.leads)
        #expect(state.stopLeading() == b.ticket)
        #expect(state.leaders == 1, "leadership is handed over, not dropped")
        #expect(state.nextBatch(max: 1).map(\.1) == ["b"])
        #expect(state.nextBatch(max: 1).map(\.1) == ["c"])
    }
}
