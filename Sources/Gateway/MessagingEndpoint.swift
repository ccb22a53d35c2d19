import BotConnector
import Foundation
import HeraldHTTP
import Kafka
import Logging
import NIOCore
import NIOHTTP1
import Store
import Synchronization

/// `POST /api/messages`: authenticates each request, reads its activity, and records what it means (Kafka
/// first, then the store) before answering 200. Nothing is done for a request that is not authenticated.
///
/// Answers: 401 for any token problem (the reason is logged and counted, never told), 400 for a body that is
/// not a JSON object, 413 over `gateway.maxBodyBytes` (the HTTP server), 415 for a content type that is not
/// JSON, 503 when the signing keys, Kafka or the store cannot be reached in time (Teams retries; a retry
/// produces the same records and event ids), 200 otherwise, also for activities Herald does not act on and
/// for a service URL outside the allow-list (nothing is recorded: Herald would never be allowed to use it).
public struct MessagingEndpoint: Sendable {
    public struct Topics: Sendable {
        public var references: String
        public var interactions: String

        public init(references: String, interactions: String) {
            self.references = references
            self.interactions = interactions
        }
    }

    let validator: BotTokenValidator
    let translator: ActivityTranslator
    let producer: KafkaProducer
    let store: any HeraldStore
    let client: BotConnectorClient
    let topics: Topics
    let produceTimeout: Duration
    let logger: Logger
    let metrics = GatewayMetrics()
    let refusals = RefusalLog()

    public init(
        validator: BotTokenValidator, appId: String, replyToMessages: String, producer: KafkaProducer,
        store: any HeraldStore, client: BotConnectorClient, topics: Topics, produceTimeout: Duration, logger: Logger
    ) {
        self.validator = validator
        self.translator = ActivityTranslator(appId: appId, replyToMessages: replyToMessages)
        self.producer = producer
        self.store = store
        self.client = client
        self.topics = topics
        self.produceTimeout = produceTimeout
        self.logger = logger
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        await metrics.inProgress { await answer(request) }
    }

    private func answer(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .POST else {
            metrics.request(type: nil, .methodNotAllowed)
            return Self.error(.methodNotAllowed, "use POST")
        }
        let token: BotTokenValidator.Verified
        do {
            token = try await validator.verify(authorization: request.headers.first(name: "authorization"))
        } catch {
            switch error {
            case .rejected(let reason): return unauthorized(reason, type: nil)
            case .keysUnavailable(let why):
                logger.error("cannot check tokens: the signing keys are unavailable", metadata: ["error": "\(why)"])
                metrics.request(type: nil, .unavailable)
                return Self.error(.serviceUnavailable, "try again later")
            }
        }
        if let contentType = request.headers.first(name: "content-type"),
            !contentType.lowercased().hasPrefix("application/json")
        {
            metrics.request(type: nil, .unsupportedMediaType)
            return Self.error(.unsupportedMediaType, "the activity must be JSON")
        }
        let body = request.bodyBytes
        let activity: InboundActivity
        do {
            guard body.first(where: { !Self.isJSONSpace($0) }) == UInt8(ascii: "{") else { throw BadBody() }
            activity = try JSONDecoder().decode(InboundActivity.self, from: Data(body))
        } catch {
            metrics.request(type: nil, .badRequest)
            return Self.error(.badRequest, "the body is not a JSON activity")
        }
        do {
            try validator.check(token, channelId: activity.channelId, serviceUrl: activity.serviceUrl)
        } catch {
            return unauthorized(error, type: activity.type)
        }
        var logger = self.logger
        logger[metadataKey: "activity.type"] = "\(activity.type.map { String($0.prefix(40)) } ?? "none")"
        if let id = activity.id { logger[metadataKey: "activity.id"] = "\(id.prefix(80))" }
        guard let serviceUrl = activity.serviceUrl, (try? client.resolveServiceURL(serviceUrl)) != nil else {
            logger.warning("activity from a service URL outside the allow-list; nothing recorded")
            metrics.request(type: activity.type, .notAllowedServiceUrl)
            return HTTPResponse(status: .ok)
        }
        let work = translator.translate(activity, body: body, receivedAt: Date())
        if let ignored = work.ignored, work.isEmpty {
            logger.debug("activity ignored", metadata: ["reason": "\(ignored)"])
            metrics.request(type: activity.type, .ignored)
            return HTTPResponse(status: .ok)
        }
        do {
            try await record(work)
        } catch {
            logger.warning(
                "cannot record the activity; answering 503 so Teams retries", metadata: ["error": "\(error)"])
            metrics.request(type: activity.type, .unavailable)
            return Self.error(.serviceUnavailable, "try again later")
        }
        metrics.request(type: activity.type, .accepted)
        logger.debug(
            "activity recorded",
            metadata: ["references": "\(work.references.count)", "events": "\(work.events.count)"])
        if let reply = work.reply, let conversation = activity.conversation?.id {
            await send(reply, to: conversation, serviceUrl: serviceUrl, logger: logger)
        }
        return HTTPResponse(status: .ok)
    }

    /// Kafka first (references, tombstones, events, all acknowledged), then the store's blocked marks.
    func record(_ work: GatewayWork) async throws {
        var messages: [ProducerMessage] = []
        for reference in work.references {
            messages.append(
                ProducerMessage(topic: topics.references, key: Array(reference.key.utf8), value: reference.json))
        }
        for key in work.tombstones {
            messages.append(ProducerMessage(topic: topics.references, key: Array(key.utf8), value: nil))
        }
        for event in work.events {
            messages.append(
                ProducerMessage(
                    topic: topics.interactions, key: Array(event.key.utf8), value: event.encoded(),
                    headers: [KafkaHeader(name: "content-type", value: Array("application/cloudevents+json".utf8))]))
        }
        if !messages.isEmpty {
            let producer = self.producer
            let batch = messages
            let started = ContinuousClock.now
            let results = try await abandoning(after: produceTimeout) {
                await producer.send(batch)
            } timedOut: {
                ProduceTimedOut()
            }
            metrics.produce.record(duration: ContinuousClock.now - started)
            for result in results { _ = try result.get() }
        }
        let now = Date()
        if !work.blocked.isEmpty {
            try await store.markBlocked(keys: work.blocked, code: "AppUninstalled", at: now)
        }
        if !work.unblocked.isEmpty {
            try await store.markUnblocked(keys: work.unblocked)
        }
    }

    private func send(_ text: String, to conversation: String, serviceUrl: String, logger: Logger) async {
        do {
            _ = try await client.sendActivity(serviceURL: serviceUrl, conversationId: conversation, .text(text))
        } catch {
            logger.warning("cannot reply to the message", metadata: ["error": "\(error.code)"])
        }
    }

    private func unauthorized(_ reason: TokenRejection, type: String?) -> HTTPResponse {
        // One line per reason per 10 s, with how many were refused since: a flood of forged tokens is counted,
        // not written out one by one.
        if let refused = refusals.record(reason, now: .now) {
            logger.notice(
                "request refused: bad token", metadata: ["reason": "\(reason.rawValue)", "refused": "\(refused)"])
        }
        metrics.tokenFailure(reason)
        metrics.request(type: type, .unauthorized)
        return Self.error(.unauthorized, "unauthorized")
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        .json(status, "{\"error\":\"\(message)\"}")
    }

    static func isJSONSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    struct BadBody: Error {}

    struct ProduceTimedOut: Error, CustomStringConvertible {
        var description: String { "Kafka did not acknowledge the records in time" }
    }
}

/// When to log refused requests: the first of each reason, then at most one line per reason per ``interval``
/// with the number refused since the last line.
final class RefusalLog: Sendable {
    static let interval: Duration = .seconds(10)
    private let state = Mutex<[TokenRejection: (logged: ContinuousClock.Instant, count: Int)]>([:])

    /// The number of refusals to report now, nil when this one is only counted.
    func record(_ reason: TokenRejection, now: ContinuousClock.Instant) -> Int? {
        state.withLock { state in
            guard let last = state[reason] else {
                state[reason] = (now, 0)
                return 1
            }
            guard now - last.logged >= Self.interval else {
                state[reason] = (last.logged, last.count + 1)
                return nil
            }
            state[reason] = (now, 0)
            return last.count + 1
        }
    }
}
