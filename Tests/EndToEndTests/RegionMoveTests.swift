import Foundation
import TeamsEmulator
import Testing

/// A tenant that moves to another geo (or the EU Data Boundary) after its conversations' serviceUrls were stored:
/// Teams refuses the old regional URL ("User is from different region", or a redirect), and the conversation is
/// reached again through the global service URL, whose answer names the URL to store.
extension EndToEnd {
    @Suite("Tenants that moved to another region")
    struct RegionMoveTests {
        @Test func aMovedTenantIsReachedThroughTheGlobalServiceUrlAndItsNewRegionIsStored() async throws {
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword))
            defer { Task { await rig.shutdown() } }
            let origin = rig.emulator.origin
            func move(to region: String, answer: String) async throws {
                _ = try await rig.emulator.post(
                    "config", ["movedTenants": ["t": "\(origin)/\(region)/"], "movedTenantAnswer": answer])
            }
            func notify(_ id: String, seq: Int) -> (key: String, value: String) {
                (
                    "k",
                    DeliveryRig.event(
                        id: id, type: "test.notify", data: ["user": "u-moved", "tenant": "t", "seq": seq])
                )
            }
            let worker = try await rig.startWorker()
            defer { worker.kill() }

            // The chat is created through the global URL; Teams answers with the tenant's regional one.
            try await move(to: "amer", answer: "forbidden")
            try await rig.publish([notify("m-1", seq: 1)])
            let first = try await rig.outcomes(finalCount: 1)
            let chat = try #require(first.first?.conversationId)

            // The tenant moves: the stored regional URL is refused once, the chat is created again through the
            // global URL and the new region stored, so the next message goes straight there. A conversation named
            // with the old regional URL by the event (nothing to create again) is retried on the global URL.
            try await move(to: "emea", answer: "forbidden")
            try await rig.publish([notify("m-2", seq: 2)])
            _ = try await rig.outcomes(finalCount: 2)
            try await rig.publish([
                notify("m-3", seq: 3),
                (
                    "k",
                    DeliveryRig.event(
                        id: "d-1", type: "test.direct",
                        data: ["conversation": chat, "serviceUrl": "\(origin)/amer/", "tenant": "t", "seq": 4])
                ),
            ])
            _ = try await rig.outcomes(finalCount: 4)
            #expect(try await rig.emulator.stats().errors == 2, "m-2's old region and d-1's, nothing for m-3")

            // A move answered with a redirect, which is never followed (it could take the token elsewhere).
            try await move(to: "apac", answer: "redirect")
            try await rig.publish([notify("m-4", seq: 5)])
            let outcomes = try await rig.outcomes(finalCount: 5)

            let statuses = Dictionary(outcomes.filter(\.isFinal).map { ($0.eventId, $0.summary) }) { a, _ in a }
            #expect(
                statuses == [
                    "m-1": "delivered", "m-2": "delivered", "m-3": "delivered", "d-1": "delivered", "m-4": "delivered",
                ])
            #expect(Set(outcomes.filter(\.isFinal).compactMap(\.conversationId)) == [chat], "one chat all along")
            let texts = try await rig.emulator.conversations().first { $0.id == chat }?.activities.count
            #expect(texts == 5, "each message once")
        }
    }
}
