import Engine
import Foundation
import Store
import Testing

@Suite("Conversation references", .timeLimit(.minutes(2)))
struct ReferenceTests {
    /// A user known by Teams id and AAD object id in tenant-a, and one known by Teams id only in tenant-b.
    static let twoUsers = [
        reference("k1", user: "29:user-1", aad: "AAD-1"), reference("k2", tenant: "tenant-b", user: "29:user-2"),
    ]

    @Test(arguments: Backend.allCases)
    func upsertLookUpAndForget(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            try await store.upsertReferences(Self.twoUsers)
            let byKey = try await store.reference(key: "k1")
            #expect(byKey?.conversationId == "a:conv-k1")
            #expect(byKey?.tenantId == "tenant-a", "tenant ids are stored lower-cased")
            #expect(byKey?.aadObjectId == "aad-1")
            #expect(byKey?.updatedAt == Date(timeIntervalSince1970: 1_700_000_000))
            #expect(try await store.reference(tenantId: "TENANT-A", userId: "29:user-1")?.key == "k1")
            #expect(try await store.reference(tenantId: "tenant-a", aadObjectId: "aad-1")?.key == "k1")
            #expect(try await store.reference(tenantId: "tenant-b", aadObjectId: "aad-1") == nil)

            var moved = reference("k1", user: "29:user-1", aad: "aad-1")
            moved.serviceUrl = "https://smba.trafficmanager.net/amer/"
            try await store.upsertReferences([moved])
            #expect(try await store.reference(key: "k1")?.serviceUrl == "https://smba.trafficmanager.net/amer/")

            #expect(try await store.forgetReferences(keys: ["k1", "missing"]) == 1)
            #expect(try await store.reference(key: "k1") == nil)
            #expect(try await store.reference(key: "k2") != nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func theRecipientsLocaleIsKeptUntilTeamsTellsANewOne(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            var austrian = reference("k1", user: "29:user-1", aad: "aad-1")
            austrian.locale = "de-AT"
            try await store.upsertReferences([austrian, reference("k2", tenant: "tenant-b", user: "29:user-2")])
            #expect(try await store.reference(key: "k1")?.locale == "de-AT")
            #expect(try await store.reference(tenantId: "tenant-a", aadObjectId: "aad-1")?.locale == "de-AT")
            #expect(try await store.reference(key: "k2")?.locale == nil)
            // A reference Herald stores itself (a conversation it created) knows no locale: the stored one stays.
            try await store.upsertReferences([reference("k1", user: "29:user-1", aad: "aad-1")])
            #expect(try await store.reference(key: "k1")?.locale == "de-AT")
            austrian.locale = "pt-BR"
            try await store.upsertReferences([austrian])
            #expect(try await store.reference(key: "k1")?.locale == "pt-BR")
            #expect(
                try await store.listReferences(after: nil, limit: 10, blockedOnly: false).items.map(\.locale) == [
                    "pt-BR", nil,
                ])
        }
    }

    @Test(arguments: Backend.allCases)
    func batchedLookupsAnswerEachQueryInOrderLikeSingleLookups(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            try await store.upsertReferences(Self.twoUsers)
            let queries: [ReferenceQuery] = [
                .key("k2"), .key("missing"), .aadObject(tenantId: "TENANT-A", aadObjectId: "aad-1"),
                .user(tenantId: "tenant-b", userId: "29:user-2"),
                .aadObject(tenantId: "tenant-b", aadObjectId: "aad-1"),
                .user(tenantId: "tenant-a", userId: "29:user-1"),
            ]
            #expect(try await store.references(queries).map { $0?.key } == ["k2", nil, "k1", "k2", nil, "k1"])
            #expect(try await store.references([]).isEmpty)

            // The engine's coalescer: 200 concurrent lookups and opt-out checks, each with its own answer.
            try await store.addOptOut(OptOut(tenantId: "tenant-a", subject: .userId("29:user-7"), route: "alerts"))
            try await store.addOptOut(OptOut(tenantId: "tenant-a", subject: .userId("29:user-3")))
            let lookups = DeliveryLookups(store: store, maxBatchSize: 50)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let key = ["k1", "k2", "none-\(i)"][i % 3]
                        let found = try await lookups.reference(.key(key))
                        #expect(found?.key == (i % 3 == 2 ? nil : key))
                        let route = i % 4 < 2 ? "alerts" : "digest"
                        let optedOut = try await lookups.optedOut(
                            OptOutCheck(tenantId: "TENANT-A", userId: "29:user-\(i % 10)"), route: route)
                        #expect(optedOut == (i % 10 == 3 || (i % 10 == 7 && route == "alerts")))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func blockedReferencesAreReportedAndKeepTheirMarkAcrossUpserts(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            try await store.upsertReferences((1...5).map { reference("b\($0)") })
            let at = Date(timeIntervalSince1970: 1_700_000_500)
            #expect(
                try await store.markBlocked(keys: ["b2", "b4", "nope"], code: "ConversationBlockedByUser", at: at) == 2)
            try await store.upsertReferences([reference("b2")])  // a fresh reference does not unblock
            let blocked = try await store.listReferences(after: nil, limit: 10, blockedOnly: true)
            #expect(blocked.items.map(\.key) == ["b2", "b4"])
            #expect(blocked.items.first?.blockCode == "ConversationBlockedByUser")
            #expect(blocked.items.first?.blockedAt == at)
            #expect(try await store.markUnblocked(keys: ["b2"]) == 1)
            #expect(try await store.listReferences(after: nil, limit: 10, blockedOnly: true).items.map(\.key) == ["b4"])
        }
    }

    @Test(arguments: Backend.allCases)
    func listingPagesThroughEveryReferenceInKeyOrder(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let keys = (0..<23).map { String(format: "key-%02d", $0) }
            try await store.upsertReferences(keys.shuffled().map { reference($0) })
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await store.listReferences(after: cursor, limit: 10, blockedOnly: false)
                #expect(page.items.count <= 10)
                seen += page.items.map(\.key)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == keys)
        }
    }

    @Test(arguments: Backend.allCases)
    func refusesInvalidReferencesWithAClearError(_ backend: Backend) async throws {
        try await withTestStore(backend) { store, _ in
            let error = await #expect(throws: StoreError.self) {
                try await store.upsertReferences([reference("")])
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.isRetryable == false)
            var huge = reference("huge")
            huge.conversationId = String(repeating: "x", count: 10_000)
            await #expect(throws: StoreError.self) { try await store.upsertReferences([huge]) }
        }
    }
}
