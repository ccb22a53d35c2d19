import Foundation
import HeraldConfig
import Kafka
import Routing
import Store
import TeamsEmulator
import Testing

@testable import Engine

/// Records read again, upstream duplicates and deliveries a killed worker left uncertain, as the outcomes topic
/// and Teams see them.
extension WorkerTests {
    /// The delivery id of `e-<index>` to `u-<index>` (see ``WorkerTests/routes``).
    static func deliveryId(_ index: Int) -> String {
        Delivery.deliveryId(
            eventId: "e-\(index)", route: "notify",
            recipientIdentity: Recipient.user(userId: nil, aadObjectId: "u-\(index)", tenantId: "t").identity)
    }

    /// Runs a worker of `group` until it has published `outcomes` outcomes, then drains it.
    static func runUntil(
        _ outcomes: Int, group: String, _ makeWorker: (String, (inout WorkerOptions) -> Void) throws -> Worker,
        onUncertain: UncertainDeliveryPolicy = .fail
    ) async throws {
        let worker = try makeWorker("\(group)-worker") {
            $0.groupId = group
            $0.onUncertain = onUncertain
        }
        let running = Task { try await worker.run() }
        let deadline = ContinuousClock.now + .seconds(60)
        while worker.stats.snapshot().outcomes.values.reduce(0, +) < outcomes, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        worker.drain()
        try await running.value
    }

    /// Every record on the outcomes topic so far.
    static func outcomes(_ kafka: EmbeddedKafka, atLeast count: Int) async throws -> [[String: Any]] {
        let reader = try KafkaConsumer(
            configuration: .init(
                cluster: .init(bootstrapServers: kafka.bootstrapServers), groupId: "reader-\(UUID().uuidString)",
                topics: ["outcomes"]),
            logger: Self.logger)
        try reader.subscribe()
        var records: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while records.count < count, ContinuousClock.now < deadline {
            records += try await reader.poll()
        }
        // Anything published beyond `count` would show within a few more polls.
        for _ in 0..<3 { records += try await reader.poll(timeout: .milliseconds(200)) }
        await reader.close()
        return records.compactMap { try? JSONSerialization.jsonObject(with: Data($0.value)) as? [String: Any] }
    }

    @Test func aRecordReadAgainPublishesNothingNewAndADifferentRecordOfTheSameEventIsADuplicate() async throws {
        try await Self.withSetup(emulatorLatency: .zero) { kafka, makeWorker, _, emulator in
            try await Self.publish(kafka, users: 0..<1)
            try await Self.runUntil(1, group: "first", makeWorker)
            // A new group reads the same record again (as after a crash before the commit), and an upstream
            // system sends the same event once more in a second record.
            try await Self.publish(kafka, users: 0..<1)
            try await Self.runUntil(1, group: "second", makeWorker)

            let outcomes = try await Self.outcomes(kafka, atLeast: 2)
            #expect(outcomes.count == 2, "one outcome per record, the re-read one publishes nothing: \(outcomes)")
            let delivered = try #require(outcomes.first { $0["status"] as? String == "delivered" })
            let duplicate = try #require(outcomes.first { $0["status"] as? String == "suppressed" })
            #expect((duplicate["error"] as? [String: Any])?["code"] as? String == "Duplicate")
            let original = try #require(delivered["input"] as? [String: Any])
            let duplicateOf = try #require(duplicate["duplicateOf"] as? [String: Any], "a Duplicate names the original")
            #expect(duplicateOf["offset"] as? Int == original["offset"] as? Int)
            #expect(duplicateOf["partition"] as? Int == original["partition"] as? Int)
            #expect((duplicate["input"] as? [String: Any])?["offset"] as? Int != original["offset"] as? Int)
            #expect(emulator.stats().activitiesSent == 1, "Teams got the message once")
        }
    }

    @Test func unroutableAndUndecodableRecordsReadAgainPublishNothingNew() async throws {
        try await Self.withSetup(emulatorLatency: .zero) { kafka, makeWorker, _, _ in
            let producer = try KafkaProducer(
                configuration: .init(cluster: .init(bootstrapServers: kafka.bootstrapServers)), logger: Self.logger)
            let unroutable = #"{"specversion":"1.0","id":"nobody-wants-me","type":"test.other","source":"/t"}"#
            for value in [unroutable, "not json at all"] {
                _ = try await producer.send(
                    ProducerMessage(topic: "events", key: Array("k".utf8), value: Array(value.utf8)))
            }
            try await producer.shutdown()
            try await Self.runUntil(2, group: "first", makeWorker)
            // Another group reads both records again; its worker has nothing new to say about them.
            let again = try makeWorker("again") { $0.groupId = "again" }
            let running = Task { try await again.run() }
            let deadline = ContinuousClock.now + .seconds(60)
            while again.stats.snapshot().replayed < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let outcomes = try await Self.outcomes(kafka, atLeast: 2)
            again.drain()
            try await running.value
            #expect(
                outcomes.compactMap { $0["status"] as? String }.sorted() == ["rejected", "unroutable"], "\(outcomes)")
            #expect(again.stats.snapshot().deadLettered == 0, "the undecodable record is not dead-lettered twice")
        }
    }

    @Test(arguments: [UncertainDeliveryPolicy.fail, .resend])
    func aDeliveryAKilledWorkerLeftMidRequestFailsOrIsSentAgainAsConfigured(
        _ policy: UncertainDeliveryPolicy
    ) async throws {
        try await Self.withSetup(emulatorLatency: .zero) { kafka, makeWorker, store, emulator in
            // A worker that died during the Teams request: its claim ran out in the `sending` state.
            let past = Date().addingTimeInterval(-120)
            _ = try await store.claim([Self.deliveryId(0)], worker: "killed", lease: .seconds(30), now: past)
            try await store.markSending([Self.deliveryId(0)], worker: "killed", now: past)
            try await Self.publish(kafka, users: 0..<1)
            try await Self.runUntil(1, group: "takeover", makeWorker, onUncertain: policy)

            let outcome = try #require(try await Self.outcomes(kafka, atLeast: 1).first)
            let code = (outcome["error"] as? [String: Any])?["code"] as? String
            switch policy {
            case .fail:
                #expect(outcome["status"] as? String == "failed")
                #expect(code == "DeliveryUncertain")
                #expect(emulator.stats().activitiesSent == 0, "not sent again: never twice")
            case .resend:
                #expect(outcome["status"] as? String == "delivered")
                #expect(emulator.stats().activitiesSent == 1, "sent again: at least once")
                #expect(try await store.ledgerEntry(deliveryId: Self.deliveryId(0))?.state == .outcomePublished)
            }
        }
    }
}
