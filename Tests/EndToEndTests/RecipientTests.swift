import ChildProcess
import Foundation
import TeamsEmulator
import Testing

/// Recipient kinds, suppression, deferral and message updates, through `herald run`.
extension EndToEnd {
    @Suite("Recipients end to end")
    struct RecipientTests {
        @Test func eachRecipientKindAndSuppressionEndsWithTheRightOutcome() async throws {
            var emulator = EmulatorConfiguration(
                appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword,
                blocked: ["u-blocked": .conversationBlockedByUser],
                teams: ["team-1": (1...3).map { EmulatorConfiguration.Member(id: "29:m\($0)", aadObjectId: "m\($0)") }])
            emulator.maxRecordedBodies = 1000
            let rig = try await DeliveryRig(emulator: emulator)
            defer { Task { await rig.shutdown() } }
            let store = "sqlite://\(rig.directory.path)/herald.db"

            // A stored reference to a conversation Teams no longer knows, and an opt-out.
            let reference =
                #"{"key":"forgotten","reference":{"user":{"id":"29:forgotten"},"bot":{"id":"28:b"},"conversation":{"id":"a:gone","tenantId":"t","conversationType":"personal"},"channelId":"msteams","serviceUrl":"\#(rig.emulator.serviceUrl)"}}"#
            let file = rig.directory.appendingPathComponent("references.jsonl")
            try reference.write(to: file, atomically: true, encoding: .utf8)
            #expect(try await HeraldProcess.run(["references", "import", file.path, "--store", store]).status == 0)
            #expect(
                try await HeraldProcess.run([
                    "optout", "add", "--tenant", "t", "--aad-object-id", "u-optout", "--store", store,
                ]).status == 0)

            let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(8))
            func event(_ id: String, _ type: String, _ data: [String: Any]) -> (key: String, value: String) {
                ("k", DeliveryRig.event(id: id, type: type, data: data.merging(["tenant": "t"]) { a, _ in a }))
            }
            try await rig.publish([
                event("keyed-1", "test.keyed", ["user": "u-keyed", "key": "K1", "version": 1]),
                event(
                    "keyed-2", "test.keyed",
                    ["user": "u-keyed", "key": "K1", "version": 2, "herald": ["action": "update"]]),
                event(
                    "keyed-3", "test.keyed",
                    ["user": "u-keyed", "key": "K1", "version": 3, "herald": ["action": "delete"]]),
                event("optout", "test.notify", ["user": "u-optout", "seq": 1]),
                event("blocked-1", "test.notify", ["user": "u-blocked", "seq": 2]),
                event("blocked-2", "test.notify", ["user": "u-blocked", "seq": 3]),
                event("later", "test.notify", ["user": "u-later", "seq": 4, "herald": ["deliverAt": later]]),
                event("ref-1", "test.reference", ["ref": "forgotten", "seq": 5]),
                event("ref-2", "test.reference", ["ref": "forgotten", "seq": 6]),
                event("ref-missing", "test.reference", ["ref": "nobody", "seq": 7]),
                event("broadcast", "test.broadcast", ["team": "team-1", "seq": 8]),
                event("thread", "test.thread", ["team": "team-1", "channel": "19:general@thread.tacv2", "seq": 9]),
            ])
            let worker = try await rig.startWorker()
            defer { worker.kill() }

            let outcomes = try await rig.outcomes(finalCount: 14, timeout: .seconds(60))
            let byEvent = Dictionary(grouping: outcomes.filter(\.isFinal), by: \.eventId).mapValues {
                $0.map(\.summary).sorted()
            }
            #expect(byEvent["keyed-1"] == ["delivered"])
            #expect(byEvent["keyed-2"] == ["updated"])
            #expect(byEvent["keyed-3"] == ["deleted"])
            #expect(byEvent["optout"] == ["suppressed/OptedOut"])
            #expect(byEvent["blocked-1"] == ["failed/ConversationBlockedByUser"])
            #expect(byEvent["blocked-2"] == ["suppressed/RecipientBlocked"], "a blocked recipient is not tried again")
            #expect(byEvent["later"] == ["delivered"])
            #expect(
                outcomes.contains { $0.eventId == "later" && $0.status == "deferred" },
                "deferred first, delivered when due"
            )
            #expect(byEvent["ref-1"] == ["delivered"], "a forgotten conversation is created again")
            #expect(byEvent["ref-2"] == ["delivered"])
            #expect(byEvent["ref-missing"] == ["failed/ReferenceNotFound"])
            #expect(byEvent["broadcast"] == ["delivered", "delivered", "delivered"], "one delivery per team member")
            #expect(byEvent["thread"] == ["delivered"])

            let conversations = try await rig.emulator.conversations()
            let keyed = outcomes.first { $0.eventId == "keyed-1" }?.conversationId
            #expect(
                conversations.first { $0.id == keyed }?.activities.map(\.operation) == ["send", "update", "delete"])
            let refs = outcomes.filter { $0.route == "by-reference" && $0.status == "delivered" }
            #expect(
                Set(refs.compactMap(\.conversationId)).count == 1, "the re-created conversation is stored and reused")
            #expect(refs.first?.conversationId != "a:gone")
            let thread = outcomes.first { $0.eventId == "thread" }
            #expect(thread?.conversationId?.hasPrefix("19:general@thread.tacv2;messageid=") == true)
            #expect(
                conversations.filter { !$0.isGroup && ["29:m1", "29:m2", "29:m3"].contains($0.userId ?? "") }.count == 3
            )
        }
    }
}
