import Foundation
import HeraldJSON
import Kafka
import Routing
import Store
import TeamsEmulator
import TestSupport
import Testing

@testable import Engine

/// A noisy stream to one recipient arrives as digests: one message for many events, each event with its own
/// outcome naming the message.
@Suite("Digests end to end", .serialized)
struct DigestDeliveryTests {
    static let card = #"""
        {"type":"AdaptiveCard","version":"1.5","body":[
          {"type":"TextBlock","text":"${count} builds failed"},
          {"type":"Container","items":[{"$data":"${items}","type":"TextBlock","text":"${project}: ${reason}"}]}]}
        """#

    static func routes(mode: String, window: String, maxItems: Int, minInterval: String? = nil) -> String {
        """
        routes:
          - name: builds
            match: { type: "ci.build.failed" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "t" }
            message: { card: digest.json, summary: "${count} builds failed" }
            digest: { mode: \(mode), window: \(window), maxItems: \(maxItems)\(minInterval.map { ", minInterval: \($0)" } ?? "") }
        """
    }

    static func publish(_ kafka: EmbeddedKafka, _ range: Range<Int>, user: String = "dev") async throws {
        let producer = try KafkaProducer(
            configuration: .init(cluster: .init(bootstrapServers: kafka.bootstrapServers)), logger: WorkerTests.logger)
        let messages = range.map { index in
            let value =
                #"{"specversion":"1.0","id":"build-\#(index)","type":"ci.build.failed","source":"/ci","data":{"user":"\#(user)","project":"p\#(index)","reason":"test \#(index) failed"}}"#
            return ProducerMessage(topic: "events", key: Array("build-\(index)".utf8), value: Array(value.utf8))
        }
        for result in await producer.send(messages) { _ = try result.get() }
        try await producer.shutdown()
    }

    /// The cards Teams received (sends and updates, in order), as JSON objects.
    static func cards(_ emulator: TeamsEmulator) -> [(RecordedActivity.Operation, [String: Any])] {
        emulator.conversations().flatMap(\.activities).compactMap { activity in
            guard let body = activity.body,
                let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                let attachment = (object["attachments"] as? [[String: Any]])?.first,
                let content = attachment["content"] as? [String: Any]
            else { return nil }
            return (activity.operation, content)
        }
    }

    static func title(_ card: [String: Any]) -> String? {
        ((card["body"] as? [[String: Any]])?.first)?["text"] as? String
    }

    @Test func aBatchDigestSendsWhenFullAndWhenItsWindowClosesWithOneOutcomePerEvent() async throws {
        let routes = Self.routes(mode: "batch", window: "3s", maxItems: 5)
        try await WorkerTests.withSetup(emulatorLatency: .zero, routes: routes, files: ["digest.json": Self.card]) {
            kafka, makeWorker, store, emulator in
            let worker = try makeWorker("w") { $0.deferredPollInterval = .milliseconds(50) }
            let running = Task { try await worker.run() }
            try await Self.publish(kafka, 0..<12)
            try await eventually(within: .seconds(60), "every event has its outcome") {
                worker.stats.snapshot().outcomes["delivered", default: 0] == 12
            }
            try await eventually(within: .seconds(10), "the digests left the store") {
                try await store.digestCount() == 0
            }
            worker.drain()
            try await running.value
            #expect(emulator.stats().activitiesSent == 3, "12 events, digests of at most 5: three messages")
            let titles = Self.cards(emulator).map { Self.title($0.1) ?? "" }
            #expect(titles == ["5 builds failed", "5 builds failed", "2 builds failed"], "\(titles)")
            let outcomes = try await WorkerTests.outcomes(kafka, atLeast: 12)
            #expect(outcomes.count == 12, "one outcome per event, none twice")
            let digests = outcomes.compactMap { $0["digest"] as? [String: Any] }
            #expect(digests.count == 12)
            let byDigest = Dictionary(grouping: outcomes) { ($0["digest"] as? [String: Any])?["id"] as? String ?? "" }
            #expect(byDigest.values.map(\.count).sorted() == [2, 5, 5])
            for (_, members) in byDigest {
                let activityIds = Set(members.compactMap { $0["activityId"] as? String })
                #expect(activityIds.count == 1, "every event of a digest names its one message")
                let positions = members.compactMap { ($0["digest"] as? [String: Any])?["position"] as? Int }
                #expect(positions.sorted() == Array(1...members.count))
                #expect(members.allSatisfy { ($0["digest"] as? [String: Any])?["count"] as? Int == members.count })
            }
            let validation = try await SchemaValidator.run(
                outcomes.map { ("delivery-outcome.schema.json", try JSONSerialization.data(withJSONObject: $0)) }
                    .map { ($0.0, [UInt8]($0.1)) })
            #expect(validation.exitCode == 0, "\(validation.output)")
        }
    }

    @Test func aLiveDigestSendsTheFirstAtOnceAndUpdatesItAtMostOncePerInterval() async throws {
        // A window long enough that a slow machine's storm still falls inside it (one message).
        let routes = Self.routes(mode: "live", window: "10s", maxItems: 50, minInterval: "1s")
        try await WorkerTests.withSetup(emulatorLatency: .zero, routes: routes, files: ["digest.json": Self.card]) {
            kafka, makeWorker, store, emulator in
            let worker = try makeWorker("w") { $0.deferredPollInterval = .milliseconds(20) }
            let running = Task { try await worker.run() }
            try await Self.publish(kafka, 0..<1)
            try await eventually(within: .seconds(30), "the first event is sent at once") {
                emulator.stats().activitiesSent == 1
            }
            // A storm: ten more, a quarter of a second apart.
            for index in 1..<11 {
                try await Self.publish(kafka, index..<(index + 1))
                try await Task.sleep(for: .milliseconds(250))
            }
            try await eventually(within: .seconds(60), "every event has its outcome") {
                worker.stats.snapshot().outcomes["delivered", default: 0] == 11
            }
            try await eventually(within: .seconds(30), "the digest left the store when its window closed") {
                try await store.digestCount() == 0
            }
            worker.drain()
            try await running.value
            let stats = emulator.stats()
            #expect(stats.activitiesSent == 1, "one message")
            #expect(
                stats.activitiesUpdated >= 1 && stats.activitiesUpdated < 10,
                "fewer updates than events: \(stats.activitiesUpdated)")
            let cards = Self.cards(emulator)
            #expect(cards.last.map { Self.title($0.1) } == "11 builds failed", "the last update shows them all")
            let outcomes = try await WorkerTests.outcomes(kafka, atLeast: 11)
            #expect(outcomes.count == 11)
            #expect(Set(outcomes.compactMap { $0["activityId"] as? String }).count == 1, "all name the one message")
            #expect(outcomes.allSatisfy { $0["status"] as? String == "delivered" })
            // Updates at most once per minInterval: outcomes of one send share a count; sends are >= 1 s apart.
            var sendTimes: [Int: Date] = [:]
            for outcome in outcomes {
                guard let count = (outcome["digest"] as? [String: Any])?["count"] as? Int,
                    let completed = (outcome["completedAt"] as? String).flatMap(RFC3339.parse)
                else { continue }
                sendTimes[count] = min(sendTimes[count] ?? completed, completed)
            }
            let times = sendTimes.sorted { $0.key < $1.key }.map(\.value)
            #expect(times.count == 1 + stats.activitiesUpdated)
            for (earlier, later) in zip(times, times.dropFirst()) {
                #expect(
                    later.timeIntervalSince(earlier) >= 0.95,
                    "updates \(later.timeIntervalSince(earlier)) s apart: \(sendTimes.sorted { $0.key < $1.key })")
            }
        }
    }

    /// A worker killed with open digests: its items are in the store, and a worker killed after Teams took a
    /// digest and before its outcomes were published leaves it `sent` in the ledger. The next worker sends what
    /// was never sent, once, and publishes what was sent without sending it again.
    @Test func aWorkerKilledWithOpenDigestsLosesNothingAndSendsNothingTwice() async throws {
        let routes = Self.routes(mode: "batch", window: "2s", maxItems: 3)
        try await WorkerTests.withSetup(emulatorLatency: .zero, routes: routes, files: ["digest.json": Self.card]) {
            kafka, makeWorker, store, emulator in
            // The first worker joins the events to their digests and stops before any is due (it "dies": its
            // digest loop never runs, as if the process were gone).
            let first = try makeWorker("first") { $0.deferredPollInterval = .seconds(3600) }
            let firstRun = Task { try await first.run() }
            try await Self.publish(kafka, 0..<5)
            try await eventually(within: .seconds(60), "every event joined a digest") {
                try await store.digestCount() == 2
            }
            #expect(first.stats.snapshot().finalOutcomes == 0, "nothing is published when an event joins a digest")
            first.drain()
            try await firstRun.value
            // Another worker claimed the full digest, Teams took it, and it died before publishing.
            let claimedByDead = try await store.claimDueDigests(
                now: Date(), limit: 10, worker: "dead", lease: .milliseconds(200))
            let stored = try await store.digestCount()
            let full = try #require(claimedByDead.first, "\(stored) digests, \(first.stats.snapshot())")
            #expect(full.items.count == 3)
            try await store.markSent(
                [
                    SentDelivery(
                        deliveryId: full.id, activityId: "sent-by-the-dead", conversationId: "a:dev", serviceUrl: nil,
                        attempts: 1)
                ],
                now: Date())
            let second = try makeWorker("second") {
                $0.deferredPollInterval = .milliseconds(50)
                $0.groupId = "workers"
            }
            let secondRun = Task { try await second.run() }
            try await eventually(within: .seconds(60), "every event has its outcome") {
                second.stats.snapshot().outcomes["delivered", default: 0] == 5
            }
            try await eventually(within: .seconds(10), "the digests left the store") {
                try await store.digestCount() == 0
            }
            second.drain()
            try await secondRun.value
            #expect(emulator.stats().activitiesSent == 1, "only the digest nobody sent was sent")
            let outcomes = try await WorkerTests.outcomes(kafka, atLeast: 5)
            #expect(outcomes.count == 5, "one outcome per event")
            #expect(outcomes.filter { $0["activityId"] as? String == "sent-by-the-dead" }.count == 3)
            #expect(Set(outcomes.compactMap { $0["deliveryId"] as? String }).count == 5)
        }
    }

    /// An event that expires while it waits leaves the digest `expired` and out of the message; a recipient who
    /// opted out gets no digest, each event `suppressed`.
    @Test func expiredEventsLeaveTheDigestAndOptOutsApplyToTheRecipient() async throws {
        let routes = """
            routes:
              - name: builds
                match: { type: "ci.build.failed" }
                to:
                  - user: { aadObjectId: "${data.user}", tenantId: "t" }
                message: { card: digest.json }
                expiresAfter: 10s
                digest: { window: 6s }
            """
        try await WorkerTests.withSetup(emulatorLatency: .zero, routes: routes, files: ["digest.json": Self.card]) {
            kafka, makeWorker, store, emulator in
            try await store.addOptOut(OptOut(tenantId: "t", subject: .aadObjectId("quiet")))
            let worker = try makeWorker("w") { $0.deferredPollInterval = .milliseconds(50) }
            let running = Task { try await worker.run() }
            // The worker reads its partitions: an event no route knows comes back unroutable.
            let producer = try KafkaProducer(
                configuration: .init(cluster: .init(bootstrapServers: kafka.bootstrapServers)),
                logger: WorkerTests.logger)
            _ = try await producer.send(
                ProducerMessage(
                    topic: "events", key: Array("warm-up".utf8),
                    value: Array(#"{"specversion":"1.0","id":"warm-up","type":"unknown","source":"/ci"}"#.utf8)))
            try await eventually(within: .seconds(60), "the worker reads") {
                worker.stats.snapshot().finalOutcomes == 1
            }
            // Seven seconds old: it expires three seconds from now, after it joined and before the window closes.
            let old = RFC3339.format(Date().addingTimeInterval(-7))
            let events = [
                ("stale", "dev", #","time":"\#(old)""#), ("fresh", "dev", ""), ("muted", "quiet", ""),
            ].map { id, user, time in
                ProducerMessage(
                    topic: "events", key: Array(id.utf8),
                    value: Array(
                        #"{"specversion":"1.0","id":"\#(id)","type":"ci.build.failed","source":"/ci"\#(time),"data":{"user":"\#(user)","project":"\#(id)","reason":"r"}}"#
                            .utf8))
            }
            for result in await producer.send(events) { _ = try result.get() }
            try await producer.shutdown()
            try await eventually(within: .seconds(60), "every event has its outcome") {
                worker.stats.snapshot().finalOutcomes == 4
            }
            worker.drain()
            try await running.value
            let outcomes = try await WorkerTests.outcomes(kafka, atLeast: 4)
            let byEvent = Dictionary(uniqueKeysWithValues: outcomes.map { ($0["eventId"] as? String ?? "", $0) })
            #expect(byEvent["stale"]?["status"] as? String == "expired")
            #expect((byEvent["stale"]?["error"] as? [String: Any])?["code"] as? String == "Expired")
            #expect(
                (byEvent["stale"]?["digest"] as? [String: Any])?["id"] as? String
                    == (byEvent["fresh"]?["digest"] as? [String: Any])?["id"] as? String,
                "it expired in the digest it had joined")
            #expect(byEvent["fresh"]?["status"] as? String == "delivered")
            #expect(
                (byEvent["fresh"]?["digest"] as? [String: Any])?["count"] as? Int == 1, "the message shows one event")
            #expect(byEvent["muted"]?["status"] as? String == "suppressed")
            #expect((byEvent["muted"]?["error"] as? [String: Any])?["code"] as? String == "OptedOut")
            #expect(emulator.stats().activitiesSent == 1)
            #expect(Self.cards(emulator).map { Self.title($0.1) } == ["1 builds failed"])
        }
    }

    /// A live digest to a team channel: the first failure opens a thread, later ones update its first message.
    @Test func aLiveDigestToAChannelUpdatesTheThreadItStarted() async throws {
        let routes = """
            routes:
              - name: builds
                match: { type: "ci.build.failed" }
                to:
                  - channel: { teamId: "19:team@thread.tacv2", channelId: "19:ci@thread.tacv2", tenantId: "t" }
                message: { card: digest.json }
                digest: { mode: live, window: 30s, minInterval: 1s }
            """
        try await WorkerTests.withSetup(emulatorLatency: .zero, routes: routes, files: ["digest.json": Self.card]) {
            kafka, makeWorker, _, emulator in
            let worker = try makeWorker("w") { $0.deferredPollInterval = .milliseconds(20) }
            let running = Task { try await worker.run() }
            try await Self.publish(kafka, 0..<1)
            try await eventually(within: .seconds(30), "the thread is started") { emulator.stats().activitiesSent == 1 }
            try await Self.publish(kafka, 1..<4)
            try await eventually(within: .seconds(30), "every event has its outcome") {
                worker.stats.snapshot().outcomes["delivered", default: 0] == 4
            }
            worker.drain()
            try await running.value
            let threads = emulator.conversations().filter { $0.channelId == "19:ci@thread.tacv2" }
            #expect(threads.count == 1, "one thread")
            let activities = threads.first?.activities ?? []
            #expect(
                activities.first?.operation == .send && activities.dropFirst().allSatisfy { $0.operation == .update })
            #expect(Set(activities.map(\.id)).count == 1, "every update is of the thread's first message")
            #expect(Self.cards(emulator).last.map { Self.title($0.1) } == "4 builds failed")
        }
    }

    @Test func itemDataCannotChangeTheDigestCardsStructure() throws {
        let yaml = Self.routes(mode: "batch", window: "1m", maxItems: 5)
        let (set, problems) = RouteSet.parse(yaml: yaml, file: "routes.yaml") { path in
            (path, path == "digest.json" ? Array(Self.card.utf8) : nil)
        }
        #expect(problems.isEmpty, "\(problems)")
        let router = Router(routes: try #require(set).routes)
        let hostile: [JSONValue] = [
            ["project": #""}]},{"type":"Action.OpenUrl","url":"https://evil"#, "reason": "${count}"],
            ["project": ["$data": "x"], "reason": .array([.string("a"), .null])],
            ["project": .string(String(repeating: "{", count: 200)), "reason": "\\u0000"],
        ]
        let rendered = try #require(try router.renderDigest(route: "builds", items: hostile, key: "", digestId: "d"))
        guard case .card(let bytes) = rendered.message.body else {
            Issue.record("a card")
            return
        }
        let card = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let body = try #require(card["body"] as? [[String: Any]])
        #expect(body.count == 2 && card["actions"] == nil, "no element added by item data")
        #expect(body[0]["text"] as? String == "3 builds failed")
        let lines = try #require((body[1]["items"] as? [[String: Any]]))
        #expect(lines.count == 3 && lines.allSatisfy { $0.count == 2 && $0["type"] as? String == "TextBlock" })
        #expect((lines[0]["text"] as? String)?.hasPrefix(#""}]},{"type":"Action.OpenUrl""#) == true)
        #expect(lines[0]["text"] as? String == #""}]},{"type":"Action.OpenUrl","url":"https://evil: ${count}"#)
    }
}
