import Foundation
import Store
import Testing

@Suite("Opt-outs and deferred deliveries", .timeLimit(.minutes(2)))
struct OptOutAndDeferredTests {
    @Test(arguments: Backend.allCases)
    func optOutsApplyPerRouteOrEverywhere(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            #expect(try await store.addOptOut(OptOut(tenantId: "T1", subject: .aadObjectId("AAD-1"))))
            // The same one again: nothing changes, and the caller learns it was there (a card's opt-out undone
            // after a failure must not remove an older one).
            #expect(try await store.addOptOut(OptOut(tenantId: "t1", subject: .aadObjectId("aad-1"))) == false)
            try await store.addOptOut(OptOut(tenantId: "t1", subject: .userId("29:u2"), route: "digest"))
            #expect(try await store.listOptOuts(tenantId: nil).count == 2)
            #expect(try await store.listOptOuts(tenantId: "T1").count == 2)
            #expect(try await store.listOptOuts(tenantId: "t2").isEmpty)

            let recipients = [
                OptOutCheck(tenantId: "t1", aadObjectId: "aad-1"),  // every route
                OptOutCheck(tenantId: "t1", userId: "29:u2"),  // only digest
                OptOutCheck(tenantId: "t2", aadObjectId: "aad-1"),  // other tenant
                OptOutCheck(tenantId: "T1", userId: "29:x", aadObjectId: "AAD-1"),  // matched by object id
            ]
            #expect(try await store.optedOut(recipients, route: "digest") == [0, 1, 3])
            #expect(try await store.optedOut(recipients, route: "alerts") == [0, 3])

            #expect(try await store.removeOptOut(OptOut(tenantId: "t1", subject: .aadObjectId("aad-1"))))
            #expect(try await store.removeOptOut(OptOut(tenantId: "t1", subject: .aadObjectId("aad-1"))) == false)
            #expect(try await store.optedOut(recipients, route: "alerts").isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func aSentCardIsKeptWithItsLedgerRowUntilPurged(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let card = #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"héllo \"x\" 🎉"}]}"#
            try await store.markSent(
                [
                    SentDelivery(
                        deliveryId: "with-card", activityId: "a1", conversationId: "c1", serviceUrl: nil, attempts: 1,
                        card: card),
                    SentDelivery(
                        deliveryId: "no-card", activityId: "a2", conversationId: "c1", serviceUrl: nil, attempts: 1),
                ], now: Date())
            try await store.markOutcomePublished(["with-card", "no-card"], now: Date())
            #expect(try await store.sentCard(deliveryId: "with-card") == card)
            #expect(try await store.sentCard(deliveryId: "no-card") == nil)
            #expect(try await store.sentCard(deliveryId: "unknown") == nil)
            #expect(try await store.purge(olderThan: Date().addingTimeInterval(60), batchSize: 10) == 2)
            #expect(try await store.sentCard(deliveryId: "with-card") == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func deferralsAreClaimedWhenDueThenCompletedOrRescheduled(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            try await store.addDeferred([
                DeferredDelivery(id: "due", payload: Array("{\"a\":1}".utf8), dueAt: now.addingTimeInterval(-5)),
                DeferredDelivery(id: "later", payload: [0, 1, 2, 255], dueAt: now.addingTimeInterval(3600)),
            ])
            let claimed = try await store.claimDue(now: now, limit: 10, worker: "w1", lease: .seconds(60))
            #expect(claimed.map(\.id) == ["due"])
            #expect(claimed.first?.payload == Array("{\"a\":1}".utf8))
            #expect(claimed.first?.attempts == 1)
            #expect(try await store.claimDue(now: now, limit: 10, worker: "w2", lease: .seconds(60)).isEmpty)
            // The claimer died: after its lease another worker gets it.
            let retaken = try await store.claimDue(
                now: now.addingTimeInterval(61), limit: 10, worker: "w2", lease: .seconds(60))
            #expect(retaken.map(\.id) == ["due"])
            try await store.rescheduleDeferred("due", dueAt: now.addingTimeInterval(7200))
            let atLater = try await store.claimDue(
                now: now.addingTimeInterval(3600), limit: 10, worker: "w3", lease: .seconds(60))
            #expect(atLater.map(\.id) == ["later"])
            #expect(atLater.first?.payload == [0, 1, 2, 255])
            try await store.completeDeferred(["later"])
            #expect(try await store.deferredCount() == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func eachDueDeferralIsClaimedExactlyOnceUnderContention(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let now = Date()
            let ids = (0..<300).map { "def-\($0)" }
            try await store.addDeferred(
                ids.map { DeferredDelivery(id: $0, payload: Array($0.utf8), dueAt: now.addingTimeInterval(-1)) })
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await store.claimDue(
                                now: now, limit: 7, worker: "w\(worker)", lease: .seconds(600))
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == ids.count, "no deferral handed out twice")
            #expect(Set(claimed) == Set(ids))
        }
    }
}

@Suite("Directory cache", .timeLimit(.minutes(2)))
struct DirectoryCacheTests {
    @Test(arguments: Backend.allCases)
    func answersAndMissesAreKeptPerTenantAndReplacedByNewerOnes(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            let ada = DirectoryEntry.key(kind: "email", value: "Ada@Contoso.com")
            #expect(ada == "email:ada@contoso.com", "addresses compare without regard to case")
            try await store.storeDirectoryEntries([
                DirectoryEntry(tenantId: "T1", name: ada, objectId: "aad-1", accountEnabled: true, resolvedAt: at),
                DirectoryEntry(
                    tenantId: "t1", name: "upn:gone@contoso.com", objectId: nil, accountEnabled: false, resolvedAt: at),
            ])
            let found = try await store.directoryEntry(tenantId: "t1", name: ada)
            #expect(found?.objectId == "aad-1")
            #expect(found?.accountEnabled == true)
            #expect(found?.resolvedAt == at)
            let miss = try await store.directoryEntry(tenantId: "T1", name: "upn:gone@contoso.com")
            #expect(miss != nil && miss?.objectId == nil, "a miss is an answer too")
            #expect(try await store.directoryEntry(tenantId: "t2", name: ada) == nil, "another tenant's directory")

            // A newer answer replaces the older one (the account was disabled since).
            let later = at.addingTimeInterval(3600)
            try await store.storeDirectoryEntries([
                DirectoryEntry(tenantId: "t1", name: ada, objectId: "aad-1", accountEnabled: false, resolvedAt: later)
            ])
            let replaced = try await store.directoryEntry(tenantId: "t1", name: ada)
            #expect(replaced?.accountEnabled == false)
            #expect(replaced?.resolvedAt == later)
        }
    }
}
