import Engine
import Synchronization
import Testing

@Suite("Per-conversation lanes: ordered within a conversation, parallel across them")
struct LanesTests {
    @Test func theStateMachineQueuesBehindABusyKeyAndHandsOverInOrder() {
        var state = LaneState<String, Int>()
        guard case .startLane(1) = state.admit(1, key: "a") else { Issue.record("a idle: starts"); return }
        guard case .queued = state.admit(2, key: "a") else { Issue.record("a busy: queued"); return }
        guard case .startLane(3) = state.admit(3, key: "b") else { Issue.record("b idle: starts"); return }
        #expect(state.admitted == 3)
        #expect(state.activeLanes == 2)
        #expect(state.finish(key: "a") == 2, "a's next item runs on a's lane")
        #expect(state.admitted == 2)
        #expect(state.finish(key: "a") == nil, "a's lane is done")
        #expect(state.finish(key: "b") == nil)
        #expect(state.admitted == 0 && state.activeLanes == 0)
    }

    /// Records what ran, and lets the test hold items until it releases them.
    final class Recorder: Sendable {
        struct State {
            var order: [String: [Int]] = [:]
            var running = 0
            var maxRunning = 0
            var started = 0
            var startedWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
            /// Held items waiting for ``release()``, and releases given before anyone waited.
            var held: [CheckedContinuation<Void, Never>] = []
            var permits = 0
        }
        let state = Mutex(State())

        /// Lets one held item finish.
        func release() {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.held.isEmpty {
                    state.permits += 1
                    return nil
                }
                return state.held.removeFirst()
            }
            waiter?.resume()
        }

        private func hold() async {
            await withCheckedContinuation { continuation in
                let go = state.withLock { state in
                    if state.permits > 0 {
                        state.permits -= 1
                        return true
                    }
                    state.held.append(continuation)
                    return false
                }
                if go { continuation.resume() }
            }
        }

        func run(key: String, value: Int, hold: Bool) async {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.running += 1
                state.maxRunning = max(state.maxRunning, state.running)
                state.started += 1
                let ready = state.startedWaiters.filter { $0.0 <= state.started }.map(\.1)
                state.startedWaiters.removeAll { $0.0 <= state.started }
                return ready
            }
            for waiter in waiters { waiter.resume() }
            if hold { await self.hold() }
            state.withLock { state in
                state.order[key, default: []].append(value)
                state.running -= 1
            }
        }

        func waitUntilStarted(_ count: Int) async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if state.started >= count { return true }
                    state.startedWaiters.append((count, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    @Test func itemsOfOneKeyRunInOrderAndKeysRunInParallel() async {
        let recorder = Recorder()
        let lanes = Lanes<String, (String, Int)> { item in
            await recorder.run(key: item.0, value: item.1, hold: false)
        }
        await withDiscardingTaskGroup { group in
            for value in 0..<300 {
                let key = "conversation-\(value % 7)"
                await lanes.admit((key, value), key: key, in: &group)
            }
            await lanes.waitUntilIdle()
        }
        let order = recorder.state.withLock { $0.order }
        #expect(order.count == 7)
        for (key, values) in order {
            #expect(values == values.sorted(), "\(key) ran out of order")
            #expect(values.count == (300 / 7) + (Int(key.dropFirst("conversation-".count))! < 300 % 7 ? 1 : 0))
        }
        #expect(recorder.state.withLock { $0.maxRunning } <= 7, "never two items of one key at once")
    }

    @Test func differentKeysRunAtOnceWhileOneKeysNextItemWaitsForIt() async {
        let recorder = Recorder()
        let lanes = Lanes<String, (String, Int)> { item in
            await recorder.run(key: item.0, value: item.1, hold: true)
        }
        await withDiscardingTaskGroup { group in
            for value in 0..<3 { await lanes.admit(("k\(value)", value), key: "k\(value)", in: &group) }
            await recorder.waitUntilStarted(3)
            #expect(recorder.state.withLock { $0.maxRunning } == 3, "different keys run in parallel")
            await lanes.admit(("k0", 3), key: "k0", in: &group)
            #expect(lanes.admitted == 4)
            #expect(recorder.state.withLock { $0.started } == 3, "k0's second item waits for its first")
            for _ in 0..<4 { recorder.release() }
            await lanes.waitUntilIdle()
        }
        #expect(recorder.state.withLock { $0.order["k0"] } == [0, 3])
        #expect(recorder.state.withLock { $0.maxRunning } == 3)
    }
}
