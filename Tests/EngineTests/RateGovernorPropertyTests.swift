import Engine
import RateLimiting
import TestSupport
import Testing

/// The rate governor over many random workloads (seeded): requests arrive at random times for random
/// conversations of a few tenants, each conversation one request at a time (as its lane sends them), each waits for
/// its reservation and then for the tenant check, as the worker does. No conversation ever exceeds Teams' windows,
/// and no tenant ever has more than its budget depart within a second.
@Suite("Rate governor properties")
struct RateGovernorPropertyTests {
    static let windows = [
        SlidingWindowLimiter.Window(count: 7, length: .seconds(1)),
        SlidingWindowLimiter.Window(count: 8, length: .seconds(2)),
        SlidingWindowLimiter.Window(count: 60, length: .seconds(30)),
    ]

    @Test("no window is ever exceeded, for random arrival times, conversations and tenants", arguments: 0..<60)
    func noWindowIsEverExceeded(seed: UInt64) {
        var random = SeededRandom(seed: seed &* 7919)
        let start = ContinuousClock.now
        let budget = Double(Int.random(in: 5...60, using: &random))
        var governor = RateGovernor(conversationWindows: Self.windows, tenantBudget: budget)
        let tenants = (0..<Int.random(in: 1...3, using: &random)).map { "t\($0)" }
        let conversations = (0..<Int.random(in: 1...40, using: &random)).map { index in
            (id: "c\(index)", tenant: tenants.randomElement(using: &random)!)
        }
        // A discrete-event run in time order, as the worker's tasks would: a request arrives, its lane (one request
        // of a conversation at a time) reserves, sleeps, passes the tenant check (or sleeps again), sends, and the
        // answer frees the lane for the conversation's next request.
        enum Step {
            case arrive(Int)
            case reserve(Int)
            case confirm(Int, reserved: Duration)
            case answer(Int, roundTrip: Duration)
        }
        var queue: [(at: Duration, order: Int, step: Step)] = []
        var order = 0
        func schedule(_ at: Duration, _ step: Step) {
            queue.append((at, order, step))
            order += 1
        }
        let requests = Int.random(in: 20...400, using: &random)
        for _ in 0..<requests {
            schedule(
                .milliseconds(Int.random(in: 0...8000, using: &random)),
                .arrive(Int.random(in: 0..<conversations.count, using: &random)))
        }
        var waiting = [Int](repeating: 0, count: conversations.count)
        var busy = [Bool](repeating: false, count: conversations.count)
        var departures: [String: [Duration]] = [:]
        var byConversation: [Int: [Duration]] = [:]
        while let next = queue.indices.min(by: { (queue[$0].at, queue[$0].order) < (queue[$1].at, queue[$1].order) }) {
            let (now, _, step) = queue.remove(at: next)
            switch step {
            case .arrive(let c):
                waiting[c] += 1
                if !busy[c] {
                    busy[c] = true
                    schedule(now, .reserve(c))
                }
            case .reserve(let c):
                let wait = governor.reserve(
                    conversation: conversations[c].id, tenant: conversations[c].tenant, now: start + now)
                schedule(now + wait, .confirm(c, reserved: now + wait))
            case .confirm(let c, let reserved):
                if let more = governor.confirm(
                    tenant: conversations[c].tenant, conversation: conversations[c].id, reserved: start + reserved,
                    now: start + now)
                {
                    schedule(now + more, .confirm(c, reserved: reserved))
                } else {
                    departures[conversations[c].tenant, default: []].append(now)
                    byConversation[c, default: []].append(now)
                    let roundTrip = Duration.milliseconds(Int.random(in: 1...40, using: &random))
                    schedule(now + roundTrip, .answer(c, roundTrip: roundTrip))
                }
            case .answer(let c, let roundTrip):
                governor.observe(roundTrip: roundTrip, now: start + now)
                waiting[c] -= 1
                if waiting[c] > 0 { schedule(now, .reserve(c)) } else { busy[c] = false }
            }
        }
        #expect(departures.values.map(\.count).reduce(0, +) == requests, "seed \(seed): every request went")
        for (tenant, times) in departures {
            #expect(busiest(times, within: .seconds(1)) <= Int(budget), "seed \(seed): tenant \(tenant)")
        }
        for (index, times) in byConversation {
            for window in Self.windows {
                #expect(
                    busiest(times, within: window.length) <= window.count, "seed \(seed): conversation \(index)")
            }
        }
    }
}
