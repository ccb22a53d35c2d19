import ChildProcess
import Foundation
import Kafka
import TeamsEmulator
import Testing

/// `herald run` as a process, against the embedded Kafka cluster over TCP and the Teams emulator over HTTP.
@Suite("Delivery end to end", .serialized)
struct DeliveryTests {
    static let tenants = (0..<10).map { "tenant-\($0)" }

    /// `count` notify events for `recipients` users spread over the tenants; event i goes to user i % recipients,
    /// keyed by the user so one user's events share a partition (and so an order).
    static func notifyEvents(count: Int, recipients: Int, prefix: String) -> [(key: String, value: String)] {
        (0..<count).map { index in
            let user = "user-\(index % recipients)"
            let data: [String: Any] = ["user": user, "tenant": tenants[index % recipients % tenants.count], "seq": index]
            return (user, DeliveryRig.event(id: "\(prefix)-\(index)", type: "test.notify", data: data))
        }
    }

    @Test func everyDeliveryHasOneOutcomeAndEveryMessageArrivesOnceInOrder() async throws {
        let rig = try await DeliveryRig(
            emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword))
        defer { Task { await rig.shutdown() } }
        let events = Self.notifyEvents(count: 2000, recipients: 500, prefix: "order")
        try await rig.publish(events)
        let worker = try await rig.startWorker()
        defer { worker.kill() }

        let outcomes = try await rig.outcomes(finalCount: 2000)
        let finals = outcomes.finalByDelivery
        #expect(finals.count == 2000, "one final outcome per delivery")
        #expect(finals.values.allSatisfy { $0.count == 1 }, "no delivery has two final outcomes")
        #expect(outcomes.filter(\.isFinal).allSatisfy { $0.status == "delivered" }, "\(Set(outcomes.map(\.summary)))")

        // Teams got each message once, and each user's messages in event order.
        let conversations = rig.emulator.conversations()
        #expect(conversations.count == 500)
        var received: [Int] = []
        for conversation in conversations {
            let numbers = sequenceNumbers(conversation)
            #expect(numbers == numbers.sorted(), "conversation \(conversation.id) got its messages in order")
            received += numbers
        }
        #expect(received.sorted() == Array(0..<2000), "every message exactly once")
        let stats = rig.emulator.stats()
        #expect(Double(stats.throttled) < Double(stats.apiRequests) * 0.01, "fewer than 1% of requests throttled")

        worker.terminate()
        #expect(await worker.exit(timeout: .seconds(30)) == .init(status: 0, signalled: false, timedOut: false))
    }
}
