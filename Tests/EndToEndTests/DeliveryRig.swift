import ChildProcess
import Foundation
import Kafka
import Logging
import TeamsEmulator
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Everything a delivery end-to-end test needs around real `herald run` processes: an embedded Kafka cluster
/// (over TCP), the Teams emulator (over HTTP), a store, a configuration file and routes in a temporary folder.
final class DeliveryRig: Sendable {
    static let appId = "00000000-0000-0000-0000-0000000000e2"
    static let appPassword = "e2e-app-password-never-logged"
    static let routes = """
        routes:
          - name: notify
            match: { type: "test.notify" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "${data.tenant}" }
            message:
              text: "#${data.seq} for ${data.user}"
          - name: direct
            match: { type: "test.direct" }
            to:
              - conversation: { id: "${data.conversation}", serviceUrl: "${data.serviceUrl}", tenantId: "${data.tenant}" }
            message:
              text: "direct #${data.seq}"
          - name: card
            match: { type: "test.card" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "${data.tenant}" }
            message:
              card: card.json
          - name: by-reference
            match: { type: "test.reference" }
            to:
              - reference: "${data.ref}"
            message:
              text: "ref #${data.seq}"
          - name: keyed
            match: { type: "test.keyed" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "${data.tenant}" }
            message:
              text: "version ${data.version}"
            notificationKey: "${data.key}"
          - name: broadcast
            match: { type: "test.broadcast" }
            to:
              - teamMembers: { teamId: "${data.team}", tenantId: "${data.tenant}" }
            message:
              text: "to everyone #${data.seq}"
          - name: welcome
            match:
              type: "herald.teams.app.installed"
              where: { "data.scope": { equals: personal } }
            to:
              - conversation: { id: "${data.conversation.id}", serviceUrl: "${data.serviceUrl}", tenantId: "${data.tenantId}" }
            message:
              text: "Welcome, ${data.user.name}"
          - name: welcome-team
            match:
              type: "herald.teams.app.installed"
              where: { "data.scope": { equals: team } }
            to:
              - conversation: { id: "${data.channel.id}", serviceUrl: "${data.serviceUrl}", tenantId: "${data.tenantId}" }
            message:
              text: "${data.user.name} added the app to ${data.team.name}"
          - name: alert
            match: { type: "test.alert" }
            to:
              - user: { aadObjectId: "${data.user}", tenantId: "${data.tenant}" }
            message:
              card: alert.json
            optOut: true
          - name: thread
            match: { type: "test.thread" }
            to:
              - channel: { teamId: "${data.team}", channelId: "${data.channel}", tenantId: "${data.tenant}" }
            message:
              text: "new thread #${data.seq}"
        """
    static let card = """
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "${data.title}"}]}
        """
    /// A card with Acknowledge; its route appends "Stop these notifications".
    static let alertCard = """
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Alert #${data.seq}"}],
         "actions": [{"type": "Action.Execute", "title": "Acknowledge", "verb": "herald.ack"}]}
        """

    let kafka: EmbeddedKafka
    let emulator: EmulatorProcess
    let directory: URL
    let eventsTopic = "events"
    let eventsPartitions: Int32
    let outcomesTopic = "outcomes"
    let deadLetterTopic = "dead-letters"
    let referencesTopic = "references"
    let interactionsTopic = "interactions"
    let logger = Logger(label: "e2e", factory: { _ in SwiftLogNoOpLogHandler() })

    /// - Parameters:
    ///   - storeURL: nil for a SQLite file in the rig's folder.
    ///   - delivery: extra YAML lines under `delivery:`.
    ///   - bot: extra YAML lines under `bot:` (`$ORIGIN` stands for the emulator's origin).
    ///   - gateway: `herald run` also serves the messaging endpoint (`gateway.enabled`), trusting the emulator's
    ///     signing keys; references and interactions get their topics, and interactions are also read as events.
    init(
        partitions: Int32 = 8, emulator configuration: EmulatorConfiguration, storeURL: String? = nil,
        delivery: String = "", bot: String = "", logLevel: String = "info", gateway: Bool = false,
        routes: String = DeliveryRig.routes, extraConfig: String = ""
    ) async throws {
        kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        eventsPartitions = partitions
        for topic in [eventsTopic, outcomesTopic, deadLetterTopic, referencesTopic, interactionsTopic] {
            try kafka.createTopic(topic, partitions: topic == eventsTopic ? partitions : 4)
        }
        let emulator = try await EmulatorProcess(configuration)
        self.emulator = emulator
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try routes.write(to: directory.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        try Self.card.write(to: directory.appendingPathComponent("card.json"), atomically: true, encoding: .utf8)
        try Self.alertCard.write(to: directory.appendingPathComponent("alert.json"), atomically: true, encoding: .utf8)
        let store = storeURL ?? "sqlite://\(directory.path)/herald.db"
        let config = """
            kafka:
              brokers: "\(kafka.bootstrapServers)"
              groupId: herald-e2e
              eventsTopics: [\(eventsTopic)\(gateway ? ", " + interactionsTopic : "")]
              outcomesTopic: \(outcomesTopic)
              deadLetterTopic: \(deadLetterTopic)
              referencesTopic: "\(gateway ? referencesTopic : "")"
              interactionsTopic: \(interactionsTopic)
            bot:
              appId: "\(Self.appId)"
              appPassword: "\(Self.appPassword)"
              tokenUrl: "\(emulator.tokenURL)"
              defaultServiceUrl: "\(emulator.serviceUrl)"
              allowedServiceHosts: ["\(emulator.origin)"]
            \(bot.replacingOccurrences(of: "$ORIGIN", with: emulator.origin).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            store:
              url: "\(store)"
            routing:
              routesFile: routes.yaml
            delivery:
              shutdownGracePeriod: 10s
            \(delivery.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            gateway:
              enabled: \(gateway)
              host: 127.0.0.1
              port: 0
              openIdMetadataUrl: "\(emulator.openIdMetadataURL)"
            http:
              port: 0
            log:
              level: \(logLevel)
            \(extraConfig)
            """
        try config.write(to: configFile, atomically: true, encoding: .utf8)
    }

    var configFile: URL { directory.appendingPathComponent("herald.yaml") }

    /// Starts `herald run` and waits until it owns partitions.
    func startWorker() async throws -> ChildProcess {
        let process = ChildProcess(HeraldProcess.binary, ["run", "--config", configFile.path])
        try process.start()
        let line = await process.line(containing: "worker started", on: .stderr)
        #expect(!line.isEmpty, "herald run starts: \(process.text(of: .stderr).suffix(2000))")
        return process
    }

    /// The port of a started worker's messaging endpoint (with `gateway: true`).
    static func gatewayPort(of worker: ChildProcess) async throws -> Int {
        let line = await worker.line(containing: "gateway.port=")
        guard let port = Int(line.dropFirst("gateway.port=".count)) else {
            throw RigError("herald run printed no gateway.port: \(worker.text(of: .stderr).suffix(2000))")
        }
        return port
    }

    /// The port of a started worker's operations endpoint (`/metrics`, `/healthz`, `/readyz`).
    static func httpPort(of worker: ChildProcess) async throws -> Int {
        let line = await worker.line(containing: "http.port=")
        guard let port = Int(line.dropFirst("http.port=".count)) else {
            throw RigError("herald run printed no http.port: \(worker.text(of: .stderr).suffix(2000))")
        }
        return port
    }

    /// GET `http://127.0.0.1:port/path`: the status and the body.
    static func get(port: Int, _ path: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Produces records on the events topic and waits for them to be stored.
    func publish(_ records: [(key: String, value: String)]) async throws {
        try await publish(
            messages: records.map {
                ProducerMessage(topic: eventsTopic, key: Array($0.key.utf8), value: Array($0.value.utf8))
            })
    }

    /// Produces `messages` and waits for them to be stored.
    func publish(messages: [ProducerMessage]) async throws {
        let producer = try KafkaProducer(
            configuration: .init(cluster: .init(bootstrapServers: kafka.bootstrapServers)), logger: logger)
        let results = await producer.send(messages)
        for result in results { _ = try result.get() }
        try await producer.shutdown()
    }

    /// Reads a topic from the start until `done` holds for what was read, or `timeout` passes.
    func read(
        _ topic: String, timeout: Duration, until done: ([KafkaMessage]) -> Bool
    ) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: .init(
                cluster: .init(bootstrapServers: kafka.bootstrapServers), groupId: "reader-\(UUID().uuidString)",
                topics: [topic]),
            logger: logger)
        try consumer.subscribe()
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + timeout
        while !done(messages), ContinuousClock.now < deadline {
            messages += try await consumer.poll()
        }
        await consumer.close()
        return messages
    }

    /// Outcomes read until `finalCount` deliveries have a final outcome (see ``Outcome/isFinal``), or `timeout`.
    func outcomes(finalCount: Int, timeout: Duration = .seconds(120)) async throws -> [Outcome] {
        // Each record is decoded once as it arrives: a large fan-out's tens of thousands of outcomes would
        // otherwise be decoded again on every poll.
        var outcomes: [Outcome] = []
        var finals: Set<String> = []
        var seen = 0
        _ = try await read(outcomesTopic, timeout: timeout) { messages in
            for message in messages[seen...] {
                guard let outcome = try? Outcome.decode(message.value) else { continue }
                outcomes.append(outcome)
                if outcome.isFinal { finals.insert(outcome.deliveryId) }
            }
            seen = messages.count
            return finals.count >= finalCount
        }
        return outcomes
    }

    /// The records of the events topic below the workers' committed offsets: a record is committed only once
    /// every delivery planned from it is done.
    func committedRecords() async throws -> Int64 {
        let probe = try KafkaConsumer(
            configuration: .init(
                cluster: .init(bootstrapServers: kafka.bootstrapServers), groupId: "herald-e2e", topics: [eventsTopic]),
            logger: logger)
        let partitions = (0..<eventsPartitions).map { TopicPartition(topic: eventsTopic, partition: $0) }
        let committed = try await probe.committed(partitions)
        await probe.close()
        return committed.values.reduce(0) { $0 + ($1 ?? 0) }
    }

    func shutdown() async {
        await emulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A CloudEvent (structured JSON) of `type` with `data`.
    static func event(id: String, type: String, data: [String: Any]) -> String {
        let object: [String: Any] = [
            "specversion": "1.0", "id": id, "type": type, "source": "/e2e",
            "time": ISO8601DateFormatter().string(from: Date()), "data": data,
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
}

/// The fields of an outcome record the tests look at.
struct Outcome: Decodable, Sendable {
    struct ErrorInfo: Decodable, Sendable {
        var code: String
        var message: String?
    }
    struct Input: Decodable, Sendable {
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    var deliveryId: String
    var eventId: String
    var status: String
    var route: String?
    var conversationId: String?
    var activityId: String?
    var attempts: Int
    var throttled: Int
    var installedApp: Bool?
    var error: ErrorInfo?
    var input: Input
    var worker: String

    static func decode(_ bytes: [UInt8]) throws -> Outcome {
        try JSONDecoder().decode(Outcome.self, from: Data(bytes))
    }

    /// The error's message, if any.
    var message: String? { error?.message }

    /// `status` or `status/code`.
    var summary: String { error.map { "\(status)/\($0.code)" } ?? status }

    /// Not an informational `deferred`, not a repeated `suppressed/Duplicate`.
    var isFinal: Bool { status != "deferred" && error?.code != "Duplicate" }
}

extension Array where Element == Outcome {
    /// Final outcomes per delivery id.
    var finalByDelivery: [String: [Outcome]] {
        Dictionary(grouping: filter(\.isFinal), by: \.deliveryId)
    }
}

/// The `#N` sequence numbers of a conversation's sent messages, in the order Teams received them.
func sequenceNumbers(_ conversation: EmulatorProcess.Conversation) -> [Int] {
    conversation.activities.compactMap { activity -> Int? in
        guard activity.operation == "send", let body = activity.body else { return nil }
        let text = String(decoding: body, as: UTF8.self)
        guard let start = text.range(of: "\"text\":\"#") else { return nil }
        return Int(text[start.upperBound...].prefix { $0.isNumber })
    }
}

extension DeliveryRig {
    /// `count` notify events numbered 0..<count for `recipients` users (user i % recipients) spread over
    /// `tenants` tenants, keyed by user so one user's events share a partition and so an order. Ids and user
    /// names carry `run` so runs sharing a store do not meet.
    static func notifyEvents(
        count: Int, recipients: Int, tenants: Int = 10, run: String = String(UUID().uuidString.prefix(8))
    ) -> [(key: String, value: String)] {
        (0..<count).map { index in
            let user = "\(run)-user-\(index % recipients)"
            let data: [String: Any] = ["user": user, "tenant": "tenant-\(index % recipients % tenants)", "seq": index]
            return (user, event(id: "\(run)-\(index)", type: "test.notify", data: data))
        }
    }

    /// Checks what a user would: one final outcome per delivery, all `delivered`; Teams received each of the
    /// `count` messages exactly once, each conversation's in event order.
    ///
    /// `afterCrash`: a worker was killed. Its last outcomes may then be published again by the next owner (the
    /// same status twice: Kafka offers no transaction here), and a message whose request was on the wire when
    /// it died ends `failed`/`DeliveryUncertain` (Teams may or may not have it; it is not sent twice).
    func expectEachDeliveredOnceInOrder(
        _ outcomes: [Outcome], count: Int, afterCrash: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let finals = outcomes.finalByDelivery
        #expect(finals.count == count, "one final outcome per delivery", sourceLocation: sourceLocation)
        if afterCrash {
            #expect(
                finals.values.allSatisfy { Set($0.map(\.summary)).count == 1 }, "repeated outcomes agree",
                sourceLocation: sourceLocation)
        } else {
            #expect(
                finals.values.allSatisfy { $0.count == 1 }, "no delivery has two final outcomes",
                sourceLocation: sourceLocation)
        }
        let last = finals.values.compactMap(\.first)
        let uncertain = last.filter { $0.summary == "failed/DeliveryUncertain" }
        let delivered = last.filter { $0.status == "delivered" }
        #expect(
            delivered.count + uncertain.count == count, "\(Set(last.map(\.summary)))", sourceLocation: sourceLocation)
        #expect(afterCrash || uncertain.isEmpty, sourceLocation: sourceLocation)
        // Uncertain: only what the killed worker had between "sending" and a durable "sent" in the ledger.
        #expect(uncertain.count <= count / 20, "\(uncertain.count) uncertain", sourceLocation: sourceLocation)
        func sequence(_ outcome: Outcome) -> Int? { outcome.eventId.split(separator: "-").last.flatMap { Int($0) } }
        var received: [Int] = []
        for conversation in try await emulator.conversations() {
            let numbers = sequenceNumbers(conversation)
            #expect(
                numbers == numbers.sorted(), "\(conversation.id) got its messages in order",
                sourceLocation: sourceLocation)
            received += numbers
        }
        #expect(Set(received).count == received.count, "no message was delivered twice", sourceLocation: sourceLocation)
        let receivedSet = Set(received)
        #expect(
            Set(delivered.compactMap(sequence)).isSubset(of: receivedSet), "every delivered message reached Teams",
            sourceLocation: sourceLocation)
        #expect(
            receivedSet.isSubset(of: Set((delivered + uncertain).compactMap(sequence))), "nothing else reached Teams",
            sourceLocation: sourceLocation)
    }
}

struct RigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
