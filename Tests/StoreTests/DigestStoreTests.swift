import Foundation
import Store
import Testing

@Suite("Digests in the store", .timeLimit(.minutes(2)))
struct DigestStoreTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func join(
        _ id: String, group: String = "g", live: Bool = false, window: Duration = .seconds(600), maxItems: Int = 25
    ) -> DigestJoin {
        DigestJoin(
            deliveryId: id, groupKey: group, newDigestId: "digest|\(id)", digestPayload: Array("payload-\(id)".utf8),
            itemPayload: Array("item-\(id)".utf8), live: live, window: window, maxItems: maxItems)
    }

    @Test(arguments: Backend.allCases)
    func aBatchDigestGathersUntilItsWindowClosesThenIsClaimedOnceWithEveryItemInOrder(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Self.start
            let joined = try await store.joinDigests(
                [Self.join("a"), Self.join("b"), Self.join("x", group: "other"), Self.join("c")], now: now)
            #expect(joined.map(\.digestId) == ["digest|a", "digest|a", "digest|x", "digest|a"])
            #expect(joined.map(\.position) == [1, 2, 1, 3])
            // The same delivery joining again (its record read again) keeps its place.
            #expect(try await store.joinDigests([Self.join("b")], now: now.addingTimeInterval(1)) == [joined[1]])
            #expect(
                try await store.claimDueDigests(
                    now: now.addingTimeInterval(599), limit: 10, worker: "w", lease: .seconds(60)
                ).isEmpty)
            let due = try await store.claimDueDigests(
                now: now.addingTimeInterval(600), limit: 10, worker: "w1", lease: .seconds(60))
            #expect(due.map(\.id).sorted() == ["digest|a", "digest|x"])
            let a = try #require(due.first { $0.id == "digest|a" })
            #expect(a.items.map(\.deliveryId) == ["a", "b", "c"])
            #expect(a.items.map(\.position) == [1, 2, 3])
            #expect(a.items[0].payload == Array("item-a".utf8) && a.payload == Array("payload-a".utf8))
            #expect(a.upTo == 3 && !a.live)
            // Claimed: nobody else gets it while the lease holds. A new event starts a new digest.
            #expect(
                try await store.claimDueDigests(
                    now: now.addingTimeInterval(601), limit: 10, worker: "w2", lease: .seconds(60)
                ).isEmpty)
            let late = try await store.joinDigests([Self.join("d")], now: now.addingTimeInterval(601))
            #expect(late == [DigestJoined(digestId: "digest|d", position: 1)])
            // The claimer was killed: after its lease the same items go to the next worker.
            let again = try await store.claimDueDigests(
                now: now.addingTimeInterval(661), limit: 10, worker: "w2", lease: .seconds(60))
            #expect(again.map(\.id).sorted() == ["digest|a", "digest|x"])
            #expect(again.first { $0.id == "digest|a" }?.items.map(\.deliveryId) == ["a", "b", "c"])
            try await store.completeDigest("digest|a")
            try await store.completeDigest("digest|x")
            #expect(try await store.digestCount() == 1, "only the new digest is left")
            #expect(
                try await store.joinDigests([Self.join("a")], now: now.addingTimeInterval(700)).first?.digestId
                    == "digest|d",
                "a completed digest's items are gone: the same delivery would join anew (the ledger stops it first)")
        }
    }

    @Test(arguments: Backend.allCases)
    func aFullBatchDigestIsDueAtOnceAndTheNextEventOpensAnother(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Self.start
            let joins = (0..<7).map { Self.join("e\($0)", maxItems: 3) }
            let joined = try await store.joinDigests(joins, now: now)
            #expect(
                joined.map(\.digestId) == [
                    "digest|e0", "digest|e0", "digest|e0", "digest|e3", "digest|e3", "digest|e3", "digest|e6",
                ])
            let due = try await store.claimDueDigests(now: now, limit: 10, worker: "w", lease: .seconds(60))
            #expect(due.map(\.id).sorted() == ["digest|e0", "digest|e3"], "the two full ones, not the open one")
            #expect(due.allSatisfy { $0.items.count == 3 })
        }
    }

    @Test(arguments: Backend.allCases)
    func aLiveDigestIsDueAtOnceThenNoSoonerThanItsNextUpdateUntilItsWindowCloses(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Self.start
            _ = try await store.joinDigests([Self.join("l1", live: true, window: .seconds(600))], now: now)
            let first = try await store.claimDueDigests(now: now, limit: 10, worker: "w", lease: .seconds(60))
            #expect(first.map(\.upTo) == [1] && first.first?.sentCount == 0 && first.first?.live == true)
            // Shown; the next update no sooner than 30 s later.
            try await store.advanceDigest("digest|l1", sentCount: 1, nextAt: now.addingTimeInterval(30), now: now)
            _ = try await store.joinDigests(
                [Self.join("l2", live: true), Self.join("l3", live: true)], now: now.addingTimeInterval(5))
            #expect(
                try await store.claimDueDigests(
                    now: now.addingTimeInterval(29), limit: 10, worker: "w", lease: .seconds(60)
                ).isEmpty)
            let update = try await store.claimDueDigests(
                now: now.addingTimeInterval(30), limit: 10, worker: "w", lease: .seconds(60))
            #expect(update.map(\.upTo) == [3] && update.first?.sentCount == 1)
            #expect(update.first?.items.map(\.deliveryId) == ["l1", "l2", "l3"], "the update shows every item so far")
            try await store.advanceDigest(
                "digest|l1", sentCount: 3, nextAt: now.addingTimeInterval(60), now: now.addingTimeInterval(30))
            // Nothing new: due again only when the window closes, to leave the store.
            #expect(
                try await store.claimDueDigests(
                    now: now.addingTimeInterval(599), limit: 10, worker: "w", lease: .seconds(60)
                ).isEmpty)
            let closing = try await store.claimDueDigests(
                now: now.addingTimeInterval(600), limit: 10, worker: "w", lease: .seconds(60))
            #expect(closing.map(\.upTo) == [3] && closing.first?.sentCount == 3)
            #expect(
                try await store.joinDigests([Self.join("l4", live: true)], now: now.addingTimeInterval(601)).first?
                    .digestId == "digest|l4")
            try await store.advanceDigest(
                "digest|l1", sentCount: 3, nextAt: now.addingTimeInterval(601), now: now.addingTimeInterval(601))
            #expect(try await store.digestCount() == 1, "the closed live digest with everything shown left")
        }
    }

    @Test(arguments: Backend.allCases)
    func quietHoursMoveTheSendNotTheWindow(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Self.start
            _ = try await store.joinDigests([Self.join("q1", window: .seconds(60))], now: now)
            let due = try await store.claimDueDigests(
                now: now.addingTimeInterval(60), limit: 10, worker: "w", lease: .seconds(60))
            #expect(due.count == 1)
            try await store.rescheduleDigest("digest|q1", dueAt: now.addingTimeInterval(3600))
            // The window closed: a new event starts a new digest while this one waits for the morning.
            #expect(
                try await store.joinDigests([Self.join("q2", window: .seconds(60))], now: now.addingTimeInterval(61))
                    .first?.digestId == "digest|q2")
            #expect(
                try await store.claimDueDigests(
                    now: now.addingTimeInterval(3599), limit: 10, worker: "w", lease: .seconds(60)
                ).map(\.id) == ["digest|q2"])
            #expect(
                try await store.claimDueDigests(
                    now: now.addingTimeInterval(3600), limit: 10, worker: "w", lease: .seconds(60)
                ).map(\.id) == ["digest|q1"])
        }
    }

    /// Workers of a group join one recipient's digest at once (PostgreSQL: several connections) and claim due digests
    /// at once: one open digest per group, every position once, every digest to exactly one claimer.
    @Test(arguments: Backend.allCases)
    func concurrentJoinsAndClaimsNeverSplitOrShareADigest(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Self.start
            let results = try await withThrowingTaskGroup(of: [DigestJoined].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [DigestJoined] = []
                        for i in 0..<25 {
                            let id = "w\(worker)-\(i)"
                            mine += try await store.joinDigests(
                                [Self.join(id, group: "g\(i % 5)", maxItems: 10)], now: now)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(results.count == 200)
            let byDigest = Dictionary(grouping: results, by: \.digestId)
            for (digest, members) in byDigest {
                #expect(members.map(\.position).sorted() == Array(1...members.count), "\(digest): each place once")
                #expect(members.count <= 10)
            }
            #expect(byDigest.count == 20, "40 deliveries per group in digests of 10: \(byDigest.mapValues(\.count))")
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        try await store.claimDueDigests(
                            now: now.addingTimeInterval(1), limit: 5, worker: "c\(worker)", lease: .seconds(600)
                        ).map(\.id)
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == Set(claimed).count, "no digest went to two claimers")
            #expect(Set(claimed) == Set(byDigest.keys), "every full digest was claimed")
        }
    }
}
