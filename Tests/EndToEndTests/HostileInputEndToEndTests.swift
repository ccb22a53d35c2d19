import ChildProcess
import Foundation
import Kafka
import Logging
import TeamsEmulator
import Testing

/// What a worker does with input it must not trust.
extension EndToEnd {
    @Suite("Hostile input end to end", .serialized)
    struct HostileInputEndToEndTests {
        @Test func aServiceUrlOutsideTheAllowListIsRejectedAndNeverCalled() async throws {
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword))
            defer { Task { await rig.shutdown() } }
            // A listener the events point at; it is not on the allow-list, so it must never see the token.
            let outsider = try await TeamsEmulator.bind(
                configuration: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword),
                logger: rig.logger)
            let outsiderTask = Task { try await outsider.run() }
            defer {
                outsider.shutdown()
                outsiderTask.cancel()
            }
            var events = (0..<5).map { index in
                (
                    key: "direct-\(index)",
                    value: DeliveryRig.event(
                        id: "outside-\(index)", type: "test.direct",
                        data: [
                            "conversation": "a:victim", "serviceUrl": outsider.serviceUrl, "tenant": "t", "seq": index,
                        ])
                )
            }
            events.append(
                (
                    "user-1",
                    DeliveryRig.event(
                        id: "inside-1", type: "test.notify", data: ["user": "user-1", "tenant": "t", "seq": 99])
                ))
            try await rig.publish(events)
            let worker = try await rig.startWorker()
            defer { worker.kill() }

            let outcomes = try await rig.outcomes(finalCount: 6)
            let byEvent = Dictionary(grouping: outcomes.filter(\.isFinal), by: \.eventId)
            for index in 0..<5 {
                #expect(byEvent["outside-\(index)"]?.map(\.summary) == ["rejected/ServiceUrlNotAllowed"])
            }
            #expect(byEvent["inside-1"]?.map(\.summary) == ["delivered"])
            #expect(outsider.stats().requests == 0, "the outside listener received no request")
        }

        @Test func malformedRecordsAreDeadLetteredAndTheWorkerKeepsGoing() async throws {
            let rig = try await DeliveryRig(
                emulator: EmulatorConfiguration(appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword))
            defer { Task { await rig.shutdown() } }
            let huge =
                "{\"type\":\"test.notify\",\"data\":{\"user\":\"u\",\"blob\":\""
                + String(repeating: "x", count: 5_000_000)
                + "\"}}"
            let injectedTitle = #"x"}]},{"type":"Action.OpenUrl","url":"https://evil.example"},{"a":"${data.tenant}"#
            // All on one key, so one partition, so the valid event comes after every bad one.
            let records: [(key: String, value: String)] = [
                ("k", "this is not JSON"),
                ("k", #"{"specversion":"1.0","id":42,"type":["test.notify"],"source":"/e2e"}"#),
                ("k", huge),
                (
                    "k",
                    DeliveryRig.event(
                        id: "card-1", type: "test.card",
                        data: ["user": "u-card", "tenant": "t", "title": injectedTitle])
                ),
                (
                    "k",
                    DeliveryRig.event(
                        id: "after", type: "test.notify", data: ["user": "u-after", "tenant": "t", "seq": 1])
                ),
            ]
            try await rig.publish(records)
            let worker = try await rig.startWorker()
            defer { worker.kill() }

            let outcomes = try await rig.outcomes(finalCount: 5)
            let rejected = outcomes.filter { $0.status == "rejected" }
            #expect(rejected.count == 3, "\(outcomes.map(\.summary))")
            #expect(Set(rejected.compactMap(\.error?.code)) == ["NotJSON", "InvalidAttribute", "EventTooLarge"])
            for outcome in rejected {
                #expect(outcome.eventId == "\(outcome.input.topic)/\(outcome.input.partition)/\(outcome.input.offset)")
            }
            #expect(outcomes.first { $0.eventId == "after" }?.status == "delivered", "the worker kept going")

            let letters = try await rig.read(rig.deadLetterTopic, timeout: .seconds(30)) { $0.count >= 3 }
            #expect(letters.count == 3)
            #expect(
                letters.allSatisfy { $0.header("herald-error-code") != nil && $0.header("herald-source-offset") != nil }
            )
            #expect(
                letters.contains { String(decoding: $0.value, as: UTF8.self) == "this is not JSON" },
                "dead letters are unchanged")

            // The card kept its structure: the hostile title is one string in the one TextBlock.
            let card = try #require(outcomes.first { $0.eventId == "card-1" })
            #expect(card.status == "delivered")
            let conversation = try #require(
                try await rig.emulator.conversations().first { $0.id == card.conversationId })
            let body = try #require(conversation.activities.first?.body)
            let activity = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            let attachments = try #require(activity["attachments"] as? [[String: Any]])
            let content = try #require(attachments.first?["content"] as? [String: Any])
            let blocks = try #require(content["body"] as? [[String: Any]])
            #expect(blocks.count == 1)
            #expect(blocks.first?["text"] as? String == injectedTitle)
            #expect(content["actions"] == nil)
            #expect(worker.isRunning, "malformed input does not stop the worker")
        }
    }
}
