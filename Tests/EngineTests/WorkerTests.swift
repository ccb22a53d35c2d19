import BotConnector
import Foundation
import Kafka
import Logging
import Routing
import Store
import TeamsEmulator
import TestSupport
import Testing

@testable import Engine

/// A worker in this process, against the embedded Kafka cluster and the Teams emulator over loopback, to look at
/// what the process-level tests cannot see: backpressure and the tenant budget share.
@Suite("Worker internals", .serialized)
struct WorkerTests {
    static let logger = Logger(label: "engine-test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let routes = """
        routes:
          - name: notify
            match: { type: "test.notify" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "t" }
            message:
              text: "hello ${data.user}"
        """

    /// Runs `body` with a running store, emulator and cluster, and a factory for workers on them.
    static func withSetup(
        emulatorLatency: Duration, routes: String = routes, files: [String: String] = [:],
        _ body: (
            EmbeddedKafka, _ makeWorker: (_ name: String, _ tune: (inout WorkerOptions) -> Void) throws -> Worker,
            any HeraldStore, TeamsEmulator
        ) async throws -> Void
    ) async throws {
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        for topic in ["events", "outcomes", "dlq"] { try kafka.createTopic(topic, partitions: 4) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let routesFile = folder.appendingPathComponent("routes.yaml")
        try routes.write(to: routesFile, atomically: true, encoding: .utf8)
        for (name, contents) in files {
            try contents.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let (set, problems) = RouteSet.load(file: routesFile.path)
        try #require(problems.isEmpty)
        let router = Router(routes: try #require(set).routes)
        let emulatorConfiguration = EmulatorConfiguration(
            appId: "app", appPassword: "secret", limits: .off, latency: emulatorLatency)
        try await TeamsEmulator.withRunning(configuration: emulatorConfiguration, logger: logger) { emulator in
            let client = BotConnectorClient(
                configuration: .init(
                    appId: "app", appPassword: "secret", tokenURL: emulator.tokenURL,
                    defaultServiceUrl: emulator.serviceUrl, allowedServiceHosts: [emulator.origin]),
                logger: logger)
            let store = try await makeStore(url: "sqlite://\(folder.path)/herald.db", logger: logger)
            let storeTask = Task { try await store.run() }
            defer { storeTask.cancel() }
            try await store.migrate()
            do {
                try await body(
                    kafka,
                    { name, tune in
                        var options = WorkerOptions(
                            worker: name, groupId: "workers", eventsTopics: ["events"], outcomesTopic: "outcomes",
                            deadLetterTopic: "dlq", conversationWindows: [])
                        tune(&options)
                        return try Worker(
                            options: options, cluster: .init(bootstrapServers: kafka.bootstrapServers), router: router,
                            decoder: EventDecoder(), client: client, store: store, logger: logger)
                    }, store, emulator)
            } catch {
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    static func publish(_ kafka: EmbeddedKafka, users: Range<Int>) async throws {
        let producer = try KafkaProducer(
            configuration: .init(cluster: .init(bootstrapServers: kafka.bootstrapServers)), logger: logger)
        let messages = users.map { index in
            let value =
                #"{"specversion":"1.0","id":"e-\#(index)","type":"test.notify","source":"/t","data":{"user":"u-\#(index)"}}"#
            return ProducerMessage(topic: "events", key: Array("u-\(index)".utf8), value: Array(value.utf8))
        }
        for result in await producer.send(messages) { _ = try result.get() }
        try await producer.shutdown()
    }

    @Test func inFlightStaysWithinMaxInFlightAndTheConsumerPausesWhenReadAheadIsFull() async throws {
        try await Self.withSetup(emulatorLatency: .milliseconds(100)) { kafka, makeWorker, _, _ in
            try await Self.publish(kafka, users: 0..<300)
            let worker = try makeWorker("w") {
                $0.maxInFlight = 20
                $0.pollBatchSize = 10
                $0.readAhead = 30
            }
            let running = Task { try await worker.run() }
            var maxInFlight = 0
            var sawPaused = false
            let deadline = ContinuousClock.now + .seconds(120)
            while worker.stats.snapshot().finalOutcomes < 300, ContinuousClock.now < deadline {
                maxInFlight = max(maxInFlight, worker.stats.snapshot().inFlight)
                if !worker.consumer.pausedPartitions.isEmpty { sawPaused = true }
                try await Task.sleep(for: .milliseconds(5))
            }
            worker.drain()
            try await running.value
            let stats = worker.stats.snapshot()
            #expect(stats.outcomes == ["delivered": 300])
            #expect(sawPaused, "the partitions were paused while the read-ahead queue was full")
            #expect(maxInFlight <= 20, "in flight stays within maxInFlight (saw \(maxInFlight))")
        }
    }

    @Test func aStoredDeferredDeliveryThatCannotBeReadGoesToTheDeadLetterTopicNotAway() async throws {
        try await Self.withSetup(emulatorLatency: .zero) { kafka, makeWorker, store, _ in
            let payload = Array(#"{"written by":"a future version"}"#.utf8)
            try await store.addDeferred([DeferredDelivery(id: "unreadable-1", payload: payload, dueAt: Date())])
            let worker = try makeWorker("w") { $0.deferredPollInterval = .milliseconds(50) }
            let running = Task { try await worker.run() }
            let reader = try KafkaConsumer(
                configuration: .init(
                    cluster: .init(bootstrapServers: kafka.bootstrapServers), groupId: "dlq-reader", topics: ["dlq"]),
                logger: Self.logger)
            try reader.subscribe()
            var letters: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while letters.isEmpty, ContinuousClock.now < deadline {
                letters += try await reader.poll()
            }
            await reader.close()
            worker.drain()
            try await running.value
            let letter = try #require(letters.first, "the unreadable deferral reached the dead-letter topic")
            #expect(letter.value == payload, "its stored bytes, unchanged")
            #expect(letter.key == Array("unreadable-1".utf8))
            #expect(letter.header("herald-error-code") == Array("DeferredDeliveryUnreadable".utf8))
            #expect(letter.header("herald-deferral-id") == Array("unreadable-1".utf8))
            #expect(try await store.deferredCount() == 0, "and only then left the store")
            #expect(worker.stats.snapshot().deadLettered == 1)
        }
    }

    /// The worker's time is its wall clock, not the machine's: a deferral due in an hour is delivered at once by
    /// a worker whose clock says two hours have passed.
    @Test func aDeferredDeliveryComesDueByTheWorkersWallClock() async throws {
        try await Self.withSetup(emulatorLatency: .zero) { _, makeWorker, store, emulator in
            let dueAt = Date().addingTimeInterval(3600)
            let delivery = Delivery(
                eventId: "e-later", route: "notify", recipient: .user(userId: nil, aadObjectId: "later", tenantId: "t"),
                message: RenderedMessage(body: .text("an hour from now"), summary: nil, alert: false),
                notificationKey: nil, action: .send, quietHours: nil, expiresAt: nil, deliverAt: dueAt)
            let event = NotificationEvent(
                id: "e-later", type: "test.notify", source: "/t", time: nil, traceparent: nil,
                input: InputPosition(topic: "events", partition: 0, offset: 0))
            let item = WorkItem(delivery: delivery, event: event, origin: .deferred(id: "later"), now: Date())
            try await store.addDeferred([
                DeferredDelivery(id: "later", payload: try DeferredPayload(item).encoded(), dueAt: dueAt)
            ])
            let twoHoursLater = Date().addingTimeInterval(7200)
            let worker = try makeWorker("late") {
                $0.deferredPollInterval = .milliseconds(20)
                $0.wallClock = { twoHoursLater }
            }
            let running = Task { try await worker.run() }
            try await eventually(within: .seconds(60), "the deferral was delivered") {
                emulator.stats().activitiesSent == 1
            }
            try await eventually(within: .seconds(30), "the deferral left the store") {
                try await store.deferredCount() == 0
            }
            worker.drain()
            try await running.value
            let sent = emulator.conversations().flatMap(\.activities)
            #expect(sent.count == 1)
        }
    }

    @Test func eachWorkerTakesItsShareOfTheTenantBudget() async throws {
        try await Self.withSetup(emulatorLatency: .zero) { kafka, makeWorker, _, _ in
            let first = try makeWorker("first") { $0.perTenantPerSecond = 100 }
            let second = try makeWorker("second") { $0.perTenantPerSecond = 100 }
            let one = Task { try await first.run() }
            let deadline = ContinuousClock.now + .seconds(60)
            while first.consumer.assignment.count != 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            // Alone, the worker owns every partition: the whole budget.
            #expect(first.governor.withLock { $0.rate(tenant: "t") } == 100)
            let two = Task { try await second.run() }
            while first.consumer.assignment.count + second.consumer.assignment.count != 4
                || first.consumer.assignment.isEmpty || second.consumer.assignment.isEmpty,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(50))
            }
            let share = Double(first.consumer.assignment.count) / 4
            #expect(first.governor.withLock { $0.rate(tenant: "t") } == 100 * share)
            #expect(second.governor.withLock { $0.rate(tenant: "t") } == 100 * (1 - share))
            first.drain()
            second.drain()
            try await one.value
            try await two.value
        }
    }
}
