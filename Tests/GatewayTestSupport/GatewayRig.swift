import AsyncHTTPClient
import BotConnector
import ChildProcess
import Foundation
import Gateway
import HeraldConfig
import Kafka
import Logging
import NIOCore
import NIOHTTP1
import Store
import Synchronization
import TeamsEmulator
import TestSupport

let logger = Logger(label: "gateway-tests")

/// A gateway on a free port in front of a real mock cluster, a SQLite store and the emulator as Teams' side
/// (its OpenID metadata and signing keys): in the test process, or `herald gateway` as its own process.
public struct GatewayRig: Sendable {
    public let kafka: EmbeddedKafka
    public let emulator: TeamsEmulator
    public let store: any HeraldStore
    public let http: HTTPClient
    public let port: Int
    /// The configuration file (`herald gateway` runs only).
    public var configFile: URL? = nil
    /// The SQLite file of ``store`` (and of the gateway's own store).
    public var databasePath: String = ""
    public let appId = "app"
    public static let tenant = "8a3b51a9-1f3c-4bdc-9d62-3c2ab1c3e4f5"

    public var url: String { "http://127.0.0.1:\(port)/api/messages" }

    /// Runs `body` with a started gateway; stops it afterwards. `inProcess: false` runs `herald gateway` as its own
    /// process (for load: its work then does not crowd the test process's other tests).
    ///
    /// `files` are written into the configuration's folder (`routes.yaml`, templates) before the gateway starts;
    /// without a `routes.yaml`, ``defaultRoutes``.
    public static func with(
        produceTimeout: String = "10s", invokeTimeout: String = "4s", maxBodyBytes: Int = 65536,
        inProcess: Bool = true, files: [String: String] = [:], _ body: @Sendable (GatewayRig) async throws -> Void
    ) async throws {
        let kafka = try EmbeddedKafka(brokers: 1, logger: logger)
        for topic in ["events", "refs", "interactions"] { try kafka.createTopic(topic, partitions: 2) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files = files
        if files["routes.yaml"] == nil { files["routes.yaml"] = defaultRoutes }
        for (name, text) in files {
            let url = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let emulatorConfiguration = EmulatorConfiguration(appId: "app", appPassword: "secret", limits: .off)
        try await TeamsEmulator.withRunning(configuration: emulatorConfiguration, logger: logger) { emulator in
            let yaml = """
                kafka:
                  brokers: "\(kafka.bootstrapServers)"
                  eventsTopics: [events]
                  referencesTopic: refs
                  interactionsTopic: interactions
                bot:
                  appId: app
                  appPassword: secret
                  tokenUrl: "\(emulator.tokenURL)"
                  defaultServiceUrl: "\(emulator.serviceUrl)"
                  allowedServiceHosts: ["\(emulator.origin)"]
                store:
                  url: "sqlite://\(folder.path)/herald.db"
                routing:
                  routesFile: routes.yaml
                gateway:
                  host: 127.0.0.1
                  port: 0
                  openIdMetadataUrl: "\(emulator.openIdMetadataURL)"
                  produceTimeout: \(produceTimeout)
                  invokeTimeout: \(invokeTimeout)
                  maxBodyBytes: \(maxBodyBytes)
                http:
                  port: 0
                log:
                  level: error
                """
            let (parsed, problems) = HeraldConfiguration.parse(
                yaml: yaml, file: "gateway.yaml", baseDirectory: folder.path, environment: [:])
            guard let configuration = parsed, problems.isEmpty else {
                throw GatewayRigError(description: "the rig's configuration has problems: \(problems)")
            }
            let store = try await makeStore(url: configuration.store.url, logger: logger)
            let storeTask = Task { try await store.run() }
            defer { storeTask.cancel() }
            try await store.migrate()
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = Task { try? await http.shutdown() } }
            if !inProcess {
                let file = folder.appendingPathComponent("gateway.yaml")
                try yaml.replacingOccurrences(of: "level: error", with: "level: warning")
                    .write(to: file, atomically: true, encoding: .utf8)
                let (process, port) = try await launch(config: file)
                defer { process.kill() }
                try await body(
                    GatewayRig(
                        kafka: kafka, emulator: emulator, store: store, http: http, port: port, configFile: file,
                        databasePath: folder.path + "/herald.db"))
                process.terminate()
                let exit = await process.exit(timeout: .seconds(30))
                guard exit.status == 0, !exit.signalled else {
                    throw GatewayRigError(description: "herald gateway did not exit 0 on SIGTERM: \(exit)")
                }
                return
            }
            let ports = AsyncStream<Int>.makeStream()
            let stop = AsyncStream<Void>.makeStream()
            let gateway = Task {
                try await GatewaySetup.run(
                    configuration, logger: logger, listening: { port, _ in ports.continuation.yield(port) },
                    until: { for await _ in stop.stream { return } })
            }
            var iterator = ports.stream.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await gateway.value
                throw GatewayRigError(description: "the gateway did not start")
            }
            let rig = GatewayRig(
                kafka: kafka, emulator: emulator, store: store, http: http, port: port,
                databasePath: folder.path + "/herald.db")
            do {
                try await body(rig)
            } catch {
                stop.continuation.finish()
                _ = await gateway.result
                throw error
            }
            stop.continuation.finish()
            try await gateway.value
        }
    }

    /// The routes file of a rig that is given none: one text route, so the gateway has routes to load.
    public static let defaultRoutes = """
        routes:
          - name: note
            match: { type: "example.note" }
            to: [{ reference: "${data.key}" }]
            message: { text: "${data.text}" }
        """

    /// Starts `herald gateway --config config`; returns it once it listens, with its port.
    public static func launch(config: URL) async throws -> (ChildProcess, Int) {
        let process = ChildProcess(HeraldBinary.url, ["gateway", "--config", config.path])
        try process.start()
        let line = await process.line(containing: "gateway.port=")
        guard let port = Int(line.dropFirst("gateway.port=".count)) else {
            process.kill()
            throw GatewayRigError(
                description: "herald gateway did not start: \(process.text(of: .stderr).suffix(2000))")
        }
        return (process, port)
    }

    /// POSTs `body` to `url` with `authorization`; returns the status and body.
    public func post(to url: String, _ body: [UInt8], authorization: String) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "authorization", value: authorization)
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// POSTs `body` with `authorization`; returns the status and body.
    public func post(
        _ body: [UInt8], authorization: String?, contentType: String? = "application/json; charset=utf-8",
        method: HTTPMethod = .POST
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let authorization { request.headers.add(name: "authorization", value: authorization) }
        if let contentType { request.headers.add(name: "content-type", value: contentType) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        let text = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: text))
    }

    /// POSTs `activity` with a token of `kind` for its serviceUrl.
    public func post(_ activity: [String: Any], token kind: BotTokenKind = .valid) async throws -> Int {
        let serviceUrl = activity["serviceUrl"] as? String
        let token = emulator.botToken(kind, serviceUrl: serviceUrl)
        return try await post(Self.json(activity), authorization: "Bearer \(token)").status
    }

    public static func json(_ object: [String: Any]) -> [UInt8] {
        (try? Array(JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))) ?? []
    }

    /// Every record on `topics` from the beginning, read until `count` have arrived and then no more for a
    /// moment (so a test also sees records it did not expect).
    public func records(_ topics: [String], atLeast count: Int) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: .init(
                cluster: .init(
                    bootstrapServers: kafka.bootstrapServers, properties: ["auto.offset.reset": "earliest"]),
                groupId: "reader-\(UUID().uuidString)", topics: topics),
            logger: logger)
        try consumer.subscribe()
        var received: [KafkaMessage] = []
        try await eventually(within: .seconds(30), "\(count) records on \(topics)") {
            received += try await consumer.poll()
            return received.count >= count
        }
        // Anything produced with them has arrived too: one more empty poll after the last record.
        while true {
            let more = try await consumer.poll(timeout: .milliseconds(500))
            if more.isEmpty { break }
            received += more
        }
        await consumer.close()
        return received
    }

    /// `token` with its header replaced (the signature no longer matches, which must not matter to the checks
    /// that come first).
    public static func withHeader(_ token: String, _ header: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data()
        let encoded = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let rest = token.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first ?? ""
        return encoded + "." + rest
    }

    // MARK: Activities as Teams sends them

    public func account(_ aad: String, name: String) -> [String: Any] {
        ["id": "29:1\(aad)", "aadObjectId": aad, "name": name]
    }

    /// A personal-scope `installationUpdate` from `aad`.
    public func personalInstall(
        _ aad: String, action: String = "add", id: String = "f:\(UUID().uuidString)"
    )
        -> [String: Any]
    {
        [
            "type": "installationUpdate", "action": action, "id": id, "timestamp": "2026-12-02T10:00:00.123Z",
            "serviceUrl": emulator.serviceUrl, "channelId": "msteams",
            "from": account(aad, name: "Ada Lovelace"), "recipient": ["id": "28:\(appId)", "name": "Herald"],
            "conversation": ["id": "a:1\(aad)", "conversationType": "personal", "tenantId": Self.tenant],
            "channelData": ["tenant": ["id": Self.tenant]], "locale": "en-GB",
            "entities": [["type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"]],
        ]
    }

    /// A team-scope `installationUpdate` (the app added to a team) by `aad`.
    public func teamInstall(_ teamId: String, by aad: String, action: String = "add") -> [String: Any] {
        [
            "type": "installationUpdate", "action": action, "id": "f:\(UUID().uuidString)",
            "timestamp": "2026-12-02T10:00:00.123Z", "serviceUrl": emulator.serviceUrl, "channelId": "msteams",
            "from": account(aad, name: "Grace Hopper"), "recipient": ["id": "28:\(appId)", "name": "Herald"],
            "conversation": [
                "id": teamId, "conversationType": "channel", "tenantId": Self.tenant, "isGroup": true,
            ],
            "channelData": [
                "tenant": ["id": Self.tenant], "team": ["id": teamId, "name": "Platform"],
                "channel": ["id": teamId], "settings": ["selectedChannel": ["id": teamId]],
            ],
        ]
    }
}

extension GatewayRig {
    /// A card sent to `aad`'s personal chat in the emulator the way a worker sends it, and its ledger row with
    /// the card kept: what a button on it refers to.
    public struct SentCard: Sendable {
        public var conversationId: String
        public var activityId: String
        public var deliveryId: String
        public var card: String

        public init(conversationId: String, activityId: String, deliveryId: String, card: String) {
            self.conversationId = conversationId
            self.activityId = activityId
            self.deliveryId = deliveryId
            self.card = card
        }
    }

    /// Sends `card` to `aad` through the emulator's Bot Connector API and records it in the ledger as delivery
    /// `deliveryId`.
    public func sendCard(_ card: String, to aad: String, deliveryId: String) async throws -> SentCard {
        let client = BotConnectorClient(
            configuration: .init(
                appId: appId, appPassword: "secret", tokenURL: emulator.tokenURL,
                defaultServiceUrl: emulator.serviceUrl,
                allowedServiceHosts: [emulator.origin]),
            logger: logger)
        do {
            let conversation = try await client.createConversation(
                serviceUrl: emulator.serviceUrl,
                ConversationParameters(target: .userAADObjectId(aad), tenantId: Self.tenant, activity: nil))
            let activityId = try await client.sendActivity(
                serviceUrl: emulator.serviceUrl, conversationId: conversation.id,
                .adaptiveCard(json: Array(card.utf8)))
            try await store.markSent(
                [
                    SentDelivery(
                        deliveryId: deliveryId, activityId: activityId, conversationId: conversation.id,
                        serviceUrl: emulator.serviceUrl, attempts: 1, card: card)
                ], now: Date())
            try await client.shutdown()
            return SentCard(
                conversationId: conversation.id, activityId: activityId, deliveryId: deliveryId, card: card)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The `herald` block a button of a Herald card carries.
    public static func heraldBlock(route: String, deliveryId: String, eventId: String = "evt-1") -> [String: Any] {
        ["route": route, "deliveryId": deliveryId, "eventId": eventId, "notificationKey": "ticket-1"]
    }

    /// An `Action.Execute` press by `aad` (named `name`) on the card `sent`: an `invoke` `adaptiveCard/action`.
    public func execute(
        _ verb: String, data: [String: Any], on sent: SentCard, by aad: String, name: String = "Ada Lovelace"
    ) -> [String: Any] {
        [
            "type": "invoke", "name": "adaptiveCard/action", "id": "f:\(UUID().uuidString)",
            "timestamp": "2026-12-02T10:00:00.123Z", "serviceUrl": emulator.serviceUrl, "channelId": "msteams",
            "from": account(aad, name: name), "recipient": ["id": "28:\(appId)", "name": "Herald"],
            "conversation": ["id": sent.conversationId, "conversationType": "personal", "tenantId": Self.tenant],
            "channelData": ["tenant": ["id": Self.tenant]], "replyToId": sent.activityId,
            "value": ["action": ["type": "Action.Execute", "verb": verb, "data": data], "trigger": "manual"],
        ]
    }

    /// An `Action.Submit` press: a `message` whose `value` is the button's data.
    public func submit(
        _ data: [String: Any], on sent: SentCard, by aad: String, name: String = "Ada Lovelace"
    )
        -> [String: Any]
    {
        var activity = execute("", data: [:], on: sent, by: aad, name: name)
        activity["type"] = "message"
        activity["name"] = nil
        activity["value"] = data
        return activity
    }

    /// POSTs `activity` with a valid token; returns the status and the response body as JSON (nil when empty).
    public func press(_ activity: [String: Any]) async throws -> (status: Int, answer: [String: Any]?) {
        let token = emulator.botToken(.valid, serviceUrl: activity["serviceUrl"] as? String)
        let (status, body) = try await post(Self.json(activity), authorization: "Bearer \(token)")
        let answer = body.isEmpty ? nil : (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        return (status, answer)
    }
}

public struct GatewayRigError: Error, CustomStringConvertible {
    public var description: String
}

/// A record's value as a JSON object.
public func object(_ message: KafkaMessage) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(message.value))) as? [String: Any] ?? [:]
}
