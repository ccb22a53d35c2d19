import BotConnector
import Foundation
import HeraldHTTP
import HeraldJSON
import Kafka
import Logging
import NIOCore
import NIOHTTP1
import Routing
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

    /// What the gateway answers card buttons with.
    public struct CardActions: Sendable {
        /// The routes of the routes file the workers use: their `actions.<verb>` answers.
        public var routes: [Route]
        public var limits: RenderLimits
        /// `gateway.invokeTimeout`: a button is answered within it.
        public var invokeTimeout: Duration

        public init(routes: [Route], limits: RenderLimits = RenderLimits(), invokeTimeout: Duration = .seconds(4)) {
            self.routes = routes
            self.limits = limits
            self.invokeTimeout = invokeTimeout
        }
    }

    let validator: BotTokenValidator
    let translator: ActivityTranslator
    let recorder: ActivityRecorder
    let client: BotConnectorClient
    let cards: CardActionHandler
    let pacer = ConversationPacer()
    let logger: Logger
    var metrics: GatewayMetrics { recorder.metrics }
    let refusals = RefusalLog()

    public init(
        validator: BotTokenValidator, appId: String, replyToMessages: String, producer: KafkaProducer,
        store: any HeraldStore, client: BotConnectorClient, topics: Topics, produceTimeout: Duration,
        cardActions: CardActions = CardActions(routes: []), logger: Logger
    ) {
        self.validator = validator
        self.translator = ActivityTranslator(appId: appId, replyToMessages: replyToMessages)
        let recorder = ActivityRecorder(
            producer: producer, store: store, topics: topics, produceTimeout: produceTimeout, metrics: GatewayMetrics())
        self.recorder = recorder
        self.client = client
        self.cards = CardActionHandler(
            routes: cardActions.routes, limits: cardActions.limits, store: store,
            invokeTimeout: cardActions.invokeTimeout, logger: logger
        ) { work in
            try await recorder.record(work)
        }
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
        guard let serviceUrl = activity.serviceUrl, (try? client.resolveServiceUrl(serviceUrl)) != nil else {
            logger.warning("activity from a service URL outside the allow-list; nothing recorded")
            metrics.request(type: activity.type, .notAllowedServiceUrl)
            return HTTPResponse(status: .ok)
        }
        if activity.type == "invoke" || (activity.type == "message" && activity.hasValue),
            let action = CardAction(
                type: activity.type, name: activity.name, value: try? JSONParser.parse(body)["value"],
                replyToId: activity.replyToId)
        {
            return await pressed(action, activity, body: body, serviceUrl: serviceUrl, logger: logger)
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

    func record(_ work: GatewayWork) async throws { try await recorder.record(work) }

    // MARK: Card actions

    /// A button pressed on a card. An invoke (Action.Execute) is answered in its HTTP response; an Action.Submit
    /// by updating the card (or replying) through the Bot Connector, then an empty 200.
    private func pressed(
        _ action: CardAction, _ activity: InboundActivity, body: [UInt8], serviceUrl: String, logger: Logger
    ) async -> HTTPResponse {
        let now = Date()
        guard let context = ActivityTranslator.Context(activity, body: body, receivedAt: now) else {
            metrics.request(type: activity.type, .ignored)
            return respond(.error(code: "BadActivity", message: "The activity has no conversation or tenant."), action)
        }
        let event = translator.cardActionEvent(action, activity, context)
        let actor = CardActionHandler.Actor(
            id: activity.from?.id, aadObjectId: activity.from?.aadObjectId?.lowercased(), name: activity.from?.name)
        let conversation = context.conversationId
        let replyTo = action.replyToId
        let answer = await cards.handle(action, actor: actor, tenantId: context.tenantId, event: event, now: now) {
            [self] late in
            await show(late, conversation: conversation, replyTo: replyTo, serviceUrl: serviceUrl, logger: logger)
        }
        if case .error = answer {
            metrics.request(type: activity.type, .unavailable)
        } else {
            metrics.request(type: activity.type, .accepted)
        }
        metrics.cardAction(verb: action.verb, answer)
        if action.kind == .submit {
            await show(answer, conversation: conversation, replyTo: replyTo, serviceUrl: serviceUrl, logger: logger)
        }
        return respond(answer, action)
    }

    private func respond(_ answer: CardAnswer, _ action: CardAction) -> HTTPResponse {
        switch action.kind {
        case .execute: HTTPResponse.json(.ok, ByteBuffer(bytes: answer.invokeResponse))
        case .submit: HTTPResponse(status: .ok)
        }
    }

    /// Shows an answer outside an invoke response: the card `replyTo` replaced, or a message in the conversation.
    /// Paced by Teams' per-conversation limits and retried on 429 and 5xx, like the workers' sends.
    func show(
        _ answer: CardAnswer, conversation: String, replyTo: String?, serviceUrl: String, logger: Logger
    ) async {
        let client = self.client
        let activity: MessageActivity
        let update: String?
        switch answer {
        case .card(let card):
            guard let replyTo else { return }
            activity = .adaptiveCard(json: card)
            update = replyTo
        case .message(let text):
            activity = .text(text)
            update = nil
        case .error(_, let message):
            activity = .text(message)
            update = nil
        }
        for attempt in 1...4 {
            await pacer.admit(conversation)
            do throws(BotConnectorError) {
                if let update {
                    _ = try await client.updateActivity(
                        serviceUrl: serviceUrl, conversationId: conversation, activityId: update, activity)
                } else {
                    _ = try await client.sendActivity(serviceUrl: serviceUrl, conversationId: conversation, activity)
                }
                return
            } catch {
                guard error.isRetryable, attempt < 4 else {
                    logger.warning("cannot show a card action's answer", metadata: ["error": "\(error.code)"])
                    return
                }
                let wait = min(error.retryAfter ?? .milliseconds(500 * attempt), .seconds(10))
                try? await Task.sleep(for: wait)
            }
        }
    }

    private func send(_ text: String, to conversation: String, serviceUrl: String, logger: Logger) async {
        do {
            _ = try await client.sendActivity(serviceUrl: serviceUrl, conversationId: conversation, .text(text))
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
