import Foundation
import Logging
import Store
import Testing

@testable import Engine

/// A claim that also makes the reads its delivery makes next: the same answers the separate reads give, only
/// for deliveries that were claimed, and opt-outs of one route not applied to another.
@Suite("Claim with reads")
struct ClaimWithReadsTests {
    @Test func claimedDeliveriesGetTheirOptOutAndConversationOthersReadNothing() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cwr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let logger = Logger(label: "claim-with-reads", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try await makeStore(url: "sqlite://\(folder.path)/herald.db", logger: logger)
        let storeTask = Task { try await store.run() }
        defer { storeTask.cancel() }
        try await store.migrate()
        try await store.upsertReferences([
            ConversationReference(
                key: "user:aad:t/ada", conversationId: "a:ada", serviceUrl: "https://smba.example/", tenantId: "t",
                aadObjectId: "ada", scope: .personal),
            ConversationReference(
                key: "oncall", conversationId: "19:oncall@thread.tacv2", serviceUrl: "https://smba.example/",
                tenantId: "t", channelId: "19:oncall@thread.tacv2", teamId: "19:team", scope: .channel),
        ])
        try await store.addOptOut(OptOut(tenantId: "t", subject: .aadObjectId("grace"), route: "tickets"))
        try await store.addOptOut(OptOut(tenantId: "t", subject: .aadObjectId("hopper")))

        let ledger = DeliveryLedger(store: store, worker: "w1")
        let other = DeliveryLedger(store: store, worker: "w2")
        #expect(try await other.claim("held-by-w2") == .claimed)

        func user(_ aad: String, route: String = "tickets", id: String? = nil) -> ClaimWithReads {
            ClaimWithReads(
                deliveryId: id ?? "\(route)|\(aad)", route: route,
                optOut: OptOutCheck(tenantId: "t", userId: nil, aadObjectId: aad),
                reference: .aadObject(tenantId: "t", aadObjectId: aad))
        }
        // Concurrent, so they share batches.
        async let ada = ledger.claim(user("ada"))
        async let grace = ledger.claim(user("grace"))
        async let graceElsewhere = ledger.claim(user("grace", route: "builds"))
        async let hopper = ledger.claim(user("hopper", route: "builds"))
        async let held = ledger.claim(user("ada", id: "held-by-w2"))
        async let channel = ledger.claim(
            ClaimWithReads(deliveryId: "oncall|e1", route: "tickets", optOut: nil, reference: .key("oncall")))
        let answers = try await (ada, grace, graceElsewhere, hopper, held, channel)

        #expect(answers.0.claim == .claimed)
        #expect(answers.0.optedOut == false)
        #expect(answers.0.reference?.found?.conversationId == "a:ada")
        #expect(answers.1.optedOut == true, "grace opted out of this route")
        #expect(answers.1.reference?.query == .aadObject(tenantId: "t", aadObjectId: "grace"))
        #expect(answers.1.reference?.found == nil, "grace has no stored conversation")
        #expect(answers.2.optedOut == false, "grace's opt-out names another route")
        #expect(answers.3.optedOut == true, "hopper opted out of everything")
        if case .claimedByOther(let worker, _) = answers.4.claim {
            #expect(worker == "w2")
        } else {
            Issue.record("a delivery another worker holds is not claimed: \(answers.4.claim)")
        }
        #expect(answers.4.optedOut == nil && answers.4.reference == nil, "nothing is read for it")
        #expect(answers.5.optedOut == nil, "a reference recipient has no opt-out check at the claim")
        #expect(answers.5.reference?.found?.conversationId == "19:oncall@thread.tacv2")

        // The same delivery claimed again by its owner is still its own, and reads again.
        let again = try await ledger.claim(user("ada"))
        #expect(again.claim == .claimed && again.reference?.found?.conversationId == "a:ada")
    }
}
