import BotConnector
import Foundation
import HeraldJSON
import Logging
import Routing
import Store

/// What the user sees after pressing a button: the card replaced, a short message, or an error.
enum CardAnswer: Sendable, Equatable {
    case card([UInt8])
    case message(String)
    case error(code: String, message: String)

    /// The body of an `adaptiveCard/action` invoke response, as Teams reads it.
    var invokeResponse: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .card(let card):
            out.append(contentsOf: #"{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","value":"#.utf8)
            out.append(contentsOf: card)
        case .message(let text):
            out.append(
                contentsOf: #"{"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":"#.utf8)
            JSONWriter.appendString(text, to: &out)
        case .error(let code, let message):
            out.append(contentsOf: #"{"statusCode":500,"type":"application/vnd.microsoft.error","value":{"code":"#.utf8)
            JSONWriter.appendString(code, to: &out)
            out.append(contentsOf: #","message":"#.utf8)
            JSONWriter.appendString(message, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Carries out a pressed button (SPEC: card actions): Herald's verbs change the store's opt-outs, every press is
/// published on `kafka.interactionsTopic`, and the answer is the route's `actions.<verb>` or Herald's default.
///
/// What the user is told is what happened: the store write and the event are one "save"; if either fails the
/// other is undone and the user sees "Could not save your choice". A save slower than `gateway.invokeTimeout` is
/// answered with that error at the deadline and carried on; should it then succeed, the card is updated to say so
/// (an opt-out is never recorded without the user being told).
struct CardActionHandler: Sendable {
    /// What the endpoint must do with Kafka (the event) — the endpoint's own `record`.
    typealias Publish = @Sendable (GatewayWork) async throws -> Void

    let routes: [String: Route]
    let limits: RenderLimits
    let store: any HeraldStore
    let publish: Publish
    let invokeTimeout: Duration
    let logger: Logger

    static let couldNotSave = "Could not save your choice, try again."

    init(
        routes: [Route], limits: RenderLimits, store: any HeraldStore, invokeTimeout: Duration, logger: Logger,
        publish: @escaping Publish
    ) {
        var byName: [String: Route] = [:]
        for route in routes { byName[route.name] = route }
        self.routes = byName
        self.limits = limits
        self.store = store
        self.publish = publish
        self.invokeTimeout = invokeTimeout
        self.logger = logger
    }

    /// Who pressed the button: the authenticated activity's sender.
    struct Actor: Sendable {
        var id: String?
        var aadObjectId: String?
        var name: String?

        var subject: OptOut.Subject? {
            if let aad = aadObjectId, !aad.isEmpty { return .aadObjectId(aad) }
            if let id, !id.isEmpty { return .userId(id) }
            return nil
        }

        var json: JSONValue {
            var members: [JSONMember] = []
            members.append(JSONMember("name", .string(name ?? "")))
            members.append(JSONMember("aadObjectId", .string(aadObjectId ?? "")))
            members.append(JSONMember("id", .string(id ?? "")))
            return .object(members)
        }
    }

    /// The answer, within `invokeTimeout`. `event` is the interaction event this press publishes (its id derives
    /// from the activity, so a retried activity is the same event); `late` is called with the answer when the
    /// save finished only after the deadline was answered with an error.
    func handle(
        _ action: CardAction, actor: Actor, tenantId: String, event: InteractionEvent, now: Date,
        late: @escaping @Sendable (CardAnswer) async -> Void
    ) async -> CardAnswer {
        let route = action.origin.flatMap { routes[$0.route] }
        let verb = action.verb
        let time = RFC3339.format(now)
        let context = ActionContext(
            data: action.data, actor: actor.json,
            action: .object([JSONMember("verb", .string(verb)), JSONMember("time", .string(time))]))
        let stamp = action.origin.map {
            CardActionStamp(
                route: $0.route, eventId: $0.eventId, notificationKey: $0.notificationKey, deliveryId: $0.deliveryId)
        }
        let save: @Sendable () async throws -> CardAnswer
        switch verb {
        case CardVerb.optOut, CardVerb.optIn:
            guard let subject = actor.subject else {
                return .error(code: "UnknownUser", message: "Teams did not say who pressed the button.")
            }
            guard action.scopeIsAll || action.origin != nil else {
                return .error(code: "UnknownNotification", message: "This button does not say which notifications.")
            }
            let optOut = OptOut(
                tenantId: tenantId, subject: subject, route: action.scopeIsAll ? nil : action.origin?.route,
                createdAt: now)
            let optingOut = verb == CardVerb.optOut
            save = { [store, publish] in
                let changed = optingOut ? try await store.addOptOut(optOut) : try await store.removeOptOut(optOut)
                do {
                    try await publish(GatewayWork(events: [event]))
                } catch {
                    // Undo only what this press changed: an opt-out made earlier stays.
                    if changed {
                        _ = try? await (optingOut ? store.removeOptOut(optOut) : store.addOptOut(optOut))
                    }
                    throw error
                }
                return await answer(
                    verb: verb, route: route, context: context, stamp: stamp,
                    fallback: {
                        if !optingOut, let card = await self.sentCard(action.origin) { return .card(card) }
                        let template =
                            optingOut ? CardActionDefaults.optOutConfirmation : CardActionDefaults.optInConfirmation
                        return self.render(template, context: context, stamp: stamp)
                    })
            }
        case CardVerb.ack:
            save = { [publish] in
                try await publish(GatewayWork(events: [event]))
                return await answer(
                    verb: verb, route: route, context: context, stamp: stamp,
                    fallback: {
                        let line = "Acknowledged by \(actor.name ?? "someone") at \(Self.displayTime(now))"
                        return .card(Self.acknowledged(await self.sentCard(action.origin), line: line))
                    })
            }
        default:
            save = { [publish] in
                try await publish(GatewayWork(events: [event]))
                return await answer(
                    verb: verb, route: route, context: context, stamp: stamp, fallback: { .message("Got it.") })
            }
        }
        let work = Task { try await save() }
        let logger = self.logger
        switch await result(of: work, within: invokeTimeout) {
        case .some(.success(let answer)):
            return answer
        case .some(.failure(let error)):
            logger.warning(
                "cannot save a card action; the user is told to try again",
                metadata: ["verb": "\(verb.prefix(64))", "error": "\(error)"])
            return .error(code: "NotSaved", message: Self.couldNotSave)
        case .none:
            logger.warning(
                "a card action took longer than gateway.invokeTimeout; answered with an error, still saving",
                metadata: ["verb": "\(verb.prefix(64))"])
            Task {
                guard let answer = try? await work.value else { return }
                logger.notice(
                    "a late card action was saved; updating the card", metadata: ["verb": "\(verb.prefix(64))"])
                await late(answer)
            }
            return .error(code: "NotSaved", message: Self.couldNotSave)
        }
    }

    /// The route's `actions.<verb>`, else `fallback`. A route the card names but the routes no longer have, or an
    /// answer that cannot be rendered, falls back too: never an error page for a choice that was saved.
    private func answer(
        verb: String, route: Route?, context: ActionContext, stamp: CardActionStamp?,
        fallback: () async -> CardAnswer
    ) async -> CardAnswer {
        guard let configured = route?.actions[verb] else { return await fallback() }
        switch configured {
        case .card(let template):
            let rendered = render(template, context: context, stamp: stamp)
            if case .error = rendered { return await fallback() }
            return rendered
        case .text(let template):
            do {
                return .message(try template.render(in: EvaluationScope(action: context), limits: limits))
            } catch {
                logger.warning("cannot render a card action's text answer", metadata: ["error": "\(error)"])
                return await fallback()
            }
        }
    }

    private func render(_ template: CardTemplate, context: ActionContext, stamp: CardActionStamp?) -> CardAnswer {
        var out: [UInt8] = []
        do {
            let stamp = stamp ?? CardActionStamp(route: "", eventId: "", notificationKey: nil, deliveryId: "")
            _ = try template.render(
                in: EvaluationScope(action: context), limits: limits, stamp: stamp, optOut: nil, into: &out)
            return .card(out)
        } catch {
            logger.warning("cannot render a card action's answer card", metadata: ["error": "\(error)"])
            return .error(code: "AnswerNotRendered", message: "Your choice was saved.")
        }
    }

    /// The card a delivery sent, when the worker kept it (cards with Acknowledge or the opt-out).
    private func sentCard(_ origin: CardAction.Origin?) async -> [UInt8]? {
        guard let origin else { return nil }
        do {
            return try await store.sentCard(deliveryId: origin.deliveryId).map { Array($0.utf8) }
        } catch {
            logger.warning("cannot read the sent card", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The sent card with an "Acknowledged by" line and without its Acknowledge buttons; without a sent card, a
    /// card of that line alone. Values are written as JSON strings: a name cannot change the card's structure.
    static func acknowledged(_ sent: [UInt8]?, line: String) -> [UInt8] {
        let note = JSONValue.object([
            JSONMember("type", .string("TextBlock")), JSONMember("text", .string(line)),
            JSONMember("wrap", .bool(true)), JSONMember("weight", .string("Bolder")),
        ])
        if let sent, case .object(var members)? = try? JSONParser.parse(sent) {
            var body: [JSONValue] = []
            if let index = members.firstIndex(where: { $0.key == "body" }),
                case .array(let existing) = members[index].value
            {
                body = existing
                members.remove(at: index)
            }
            body.append(note)
            members.append(JSONMember("body", .array(body)))
            members = members.map { member in
                guard member.key == "actions", case .array(let actions) = member.value else { return member }
                return JSONMember("actions", .array(actions.filter { !isAcknowledge($0) }))
            }
            return JSONWriter.encode(.object(members))
        }
        return JSONWriter.encode(
            .object([
                JSONMember("type", .string("AdaptiveCard")), JSONMember("version", .string("1.4")),
                JSONMember("body", .array([note])),
            ]))
    }

    static func isAcknowledge(_ action: JSONValue) -> Bool {
        action["verb"]?.stringValue == CardVerb.ack || action["data"]?["verb"]?.stringValue == CardVerb.ack
    }

    /// `2026-12-02 19:05 UTC`: what a person reads on the card.
    static func displayTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)) UTC"
    }
}
