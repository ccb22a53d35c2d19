import Engine
import Foundation
import HeraldBenchmarks
import Store
import Testing

@Suite("Delivery ledger", .timeLimit(.minutes(3)))
struct LedgerTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test(arguments: Backend.allCases)
    func claimSendPublishLifecycle(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            let first = try await store.claim(["d1", "d2"], worker: "w1", lease: .seconds(60), now: now)
            #expect(first == ["d1": .claimed, "d2": .claimed])
            // Another worker is refused while the lease holds; the holder may claim again.
            let other = try await store.claim(
                ["d1"], worker: "w2", lease: .seconds(60), now: now.addingTimeInterval(10))
            #expect(other["d1"] == .claimedByOther(worker: "w1", until: now.addingTimeInterval(60)))
            #expect(try await store.claim(["d1"], worker: "w1", lease: .seconds(60), now: now)["d1"] == .claimed)

            try await store.markSent(
                [
                    SentDelivery(
                        deliveryId: "d1", activityId: "act-1", conversationId: "a:c", serviceUrl: "https://s/",
                        attempts: 2,
                        notificationKey: "ticket-1", recipient: "user:aad:t/u")
                ], now: now)
            guard
                case .alreadySent(let entry)? = try await store.claim(
                    ["d1"], worker: "w2", lease: .seconds(60), now: now)["d1"]
            else { Issue.record("a sent delivery must not be claimable"); return }
            #expect(entry.activityId == "act-1")
            #expect(entry.attempts == 2)
            #expect(entry.conversationId == "a:c")

            try await store.markOutcomePublished(["d1"], now: now)
            let published = try await store.claim(["d1"], worker: "w1", lease: .seconds(60), now: now)["d1"]
            guard case .outcomePublished(let done)? = published else {
                Issue.record("got \(String(describing: published))"); return
            }
            #expect(done.state == .outcomePublished)
            #expect(try await store.ledgerEntry(deliveryId: "d1")?.activityId == "act-1")
        }
    }

    @Test(arguments: Backend.allCases)
    func expiredAndReleasedClaimsCanBeTakenOver(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            _ = try await store.claim(["lease", "release"], worker: "killed", lease: .seconds(30), now: now)
            let later = now.addingTimeInterval(31)
            #expect(
                try await store.claim(["lease"], worker: "w2", lease: .seconds(30), now: later)["lease"] == .claimed)
            try await store.release(["release"], worker: "someone-else", now: now)  // not the holder: no effect
            #expect(try await store.ledgerEntry(deliveryId: "release")?.state == .claimed)
            try await store.release(["release"], worker: "killed", now: now)
            #expect(try await store.ledgerEntry(deliveryId: "release")?.state == .pending)
            #expect(
                try await store.claim(["release"], worker: "w2", lease: .seconds(30), now: now)["release"] == .claimed)
        }
    }

    @Test(arguments: Backend.allCases)
    func aClaimThatExpiresMidRequestIsUncertainNotClaimable(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            _ = try await store.claim(["wire", "parked"], worker: "killed", lease: .seconds(30), now: now)
            try await store.markSending(["wire", "parked"], worker: "killed", now: now)
            try await store.markSending(["wire"], worker: "not-the-holder", now: now)  // no effect
            #expect(try await store.ledgerEntry(deliveryId: "wire")?.state == .sending)
            // While the lease holds, others wait; the holder may claim again (a lease renewal).
            #expect(
                try await store.claim(["wire"], worker: "w2", lease: .seconds(30), now: now)["wire"]
                    == .claimedByOther(worker: "killed", until: now.addingTimeInterval(30)))
            #expect(
                try await store.claim(["wire"], worker: "killed", lease: .seconds(30), now: now)["wire"] == .claimed)
            try await store.markSending(["wire"], worker: "killed", now: now)
            // Expired mid-request: Teams may have the message, so nobody may claim it to send again.
            let later = now.addingTimeInterval(31)
            guard
                case .uncertain(let entry) = try await store.claim(
                    ["wire"], worker: "w2", lease: .seconds(30), now: later)["wire"]
            else {
                Issue.record("an expired 'sending' claim is uncertain")
                return
            }
            #expect(entry.claimedBy == "killed")
            // A holder that stops before its request (a parked delivery) gives the claim back cleanly.
            try await store.release(["parked"], worker: "killed", now: now)
            #expect(try await store.ledgerEntry(deliveryId: "parked")?.state == .pending)
            try await store.markOutcomePublished(["wire"], now: later)
            #expect(try await store.ledgerEntry(deliveryId: "wire")?.state == .outcomePublished)
        }
    }

    @Test(arguments: Backend.allCases)
    func anUncertainDeliveryCanBeTakenOverOnceToSendAgain(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            _ = try await store.claim(["wire", "live"], worker: "killed", lease: .seconds(30), now: now)
            try await store.markSending(["wire", "live"], worker: "killed", now: now)
            // Teams refused a request outright (429): waiting to retry, the delivery is not uncertain.
            _ = try await store.claim(["refused"], worker: "killed", lease: .seconds(30), now: now)
            try await store.markSending(["refused"], worker: "killed", now: now)
            try await store.markNotSending(["refused"], worker: "not-the-holder", now: now)  // no effect
            #expect(try await store.ledgerEntry(deliveryId: "refused")?.state == .sending)
            try await store.markNotSending(["refused"], worker: "killed", now: now)
            #expect(try await store.ledgerEntry(deliveryId: "refused")?.state == .claimed)
            #expect(
                try await store.claim(["refused"], worker: "w2", lease: .seconds(30), now: now.addingTimeInterval(31))[
                    "refused"] == .claimed)
            // Before the lease ends nobody takes it over: the holder may still be waiting for Teams' answer.
            #expect(try await store.claimUncertain(["live"], worker: "w2", lease: .seconds(30), now: now).isEmpty)
            let later = now.addingTimeInterval(31)
            // Two workers ask at once: exactly one gets it.
            async let first = store.claimUncertain(["wire"], worker: "w2", lease: .seconds(30), now: later)
            async let second = store.claimUncertain(["wire"], worker: "w3", lease: .seconds(30), now: later)
            let winners = try await [first, second].filter { $0.contains("wire") }
            #expect(winners.count == 1)
            let entry = try #require(try await store.ledgerEntry(deliveryId: "wire"))
            #expect(entry.state == .claimed)
            #expect(entry.claimedBy == "w2" || entry.claimedBy == "w3")
            // A delivery that was sent is never taken over.
            try await store.markSent(
                [SentDelivery(deliveryId: "live", activityId: "a", conversationId: "c", serviceUrl: nil, attempts: 1)],
                now: later)
            #expect(try await store.claimUncertain(["live"], worker: "w2", lease: .seconds(30), now: later).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func aPublishedOutcomeRemembersTheRecordItWasPublishedFor(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            _ = try await store.claim(["d"], worker: "w1", lease: .seconds(30), now: now)
            try await store.markOutcomePublished(
                [
                    PublishedOutcome(deliveryId: "d", input: "events/3/41"),
                    PublishedOutcome(deliveryId: "e", input: nil),
                ],
                now: now)
            guard
                case .outcomePublished(let entry)? = try await store.claim(
                    ["d"], worker: "w2", lease: .seconds(30), now: now)["d"]
            else {
                Issue.record("a published delivery is not claimable")
                return
            }
            #expect(entry.input == "events/3/41")
            // Marked again (an identical outcome published again), the first record stays the one remembered.
            try await store.markOutcomePublished([PublishedOutcome(deliveryId: "d", input: "events/5/7")], now: now)
            #expect(try await store.ledgerEntry(deliveryId: "d")?.input == "events/3/41")
            #expect(try await store.ledgerEntry(deliveryId: "e")?.input == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func latestSentFindsTheNewestActivityForUpdates(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            for (i, id) in ["e1", "e2"].enumerated() {
                try await store.markSent(
                    [
                        SentDelivery(
                            deliveryId: id, activityId: "act-\(id)", conversationId: "a:c", serviceUrl: "https://s/",
                            attempts: 1, notificationKey: "ticket-9", recipient: "user:aad:t/u")
                    ],
                    now: now.addingTimeInterval(Double(i)))
            }
            #expect(
                try await store.latestSent(notificationKey: "ticket-9", recipient: "user:aad:t/u")?.activityId
                    == "act-e2")
            #expect(try await store.latestSent(notificationKey: "ticket-9", recipient: "user:aad:t/other") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func purgeDeletesOldRowsInBatches(_ backend: Backend) async throws {
        let now = self.now
        try await withTestStore(backend) { store, _ in
            let old = (0..<25).map { "old-\($0)" }
            _ = try await store.claim(old, worker: "w", lease: .seconds(1), now: now.addingTimeInterval(-86_400 * 10))
            _ = try await store.claim(["new"], worker: "w", lease: .seconds(1), now: now)
            #expect(try await store.purge(olderThan: now.addingTimeInterval(-86_400), batchSize: 7) == 25)
            #expect(try await store.ledgerEntry(deliveryId: "old-3") == nil)
            #expect(try await store.ledgerEntry(deliveryId: "new") != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentWorkersNeverClaimOneDeliveryTwice(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let ids = (0..<600).map { "race-\($0)" }
            // 4 workers, each with its own batching ledger and 150 concurrent claimers over the same ids.
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<4 {
                    let ledger = DeliveryLedger(
                        store: store, worker: "w\(worker)", lease: .seconds(600), maxBatchSize: 50)
                    for slice in stride(from: 0, to: ids.count, by: 4) {
                        let mine = Array(ids[slice..<min(slice + 4, ids.count)]).shuffled()
                        group.addTask {
                            var won: [String] = []
                            for id in mine where try await ledger.claim(id) == .claimed { won.append(id) }
                            return won
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claims.count == ids.count, "every delivery is claimed exactly once")
            #expect(Set(claims) == Set(ids))
        }
    }

    @Test(arguments: Backend.allCases)
    func batchedLedgerRecordsEveryStateUpdate(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let result = try await StoreBenchmark(deliveries: 500, inFlight: 200).run(
                store: store, backend: backend.rawValue, run: "t")
            #expect(result.notClaimed == 0)
            for i in [0, 250, 499] {
                let entry = try await store.ledgerEntry(deliveryId: "bench-t-\(i)")
                #expect(entry?.state == .outcomePublished)
                #expect(entry?.activityId == "a-bench-t-\(i)")
            }
        }
    }
}
