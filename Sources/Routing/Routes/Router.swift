import Foundation

/// Compiled routes: turns a decoded event into delivery plans with no parsing and no I/O.
public struct Router: Sendable {
    public let routes: [Route]
    public let limits: RenderLimits
    /// Longest recipient field after substitution. Default: 1024 bytes.
    public static let maxRecipientFieldBytes = 1024

    public init(routes: [Route], limits: RenderLimits = RenderLimits()) {
        self.routes = routes
        self.limits = limits
    }

    /// Every delivery for `event`: each matching route contributes one per recipient. `now` is the base of
    /// `expiresAfter` when the event has no time.
    public func route(_ event: NotificationEvent, now: Date) -> RoutingResult {
        var result = RoutingResult()
        let scope = EvaluationScope(event: event)
        for route in routes where !route.isCatchAll && route.matches(scope) {
            plan(route, scope: scope, now: now, into: &result)
        }
        if result.matchedRoutes.isEmpty {
            for route in routes where route.isCatchAll && route.matches(scope) {
                plan(route, scope: scope, now: now, into: &result)
            }
        }
        return result
    }

    func plan(_ route: Route, scope: EvaluationScope, now: Date, into result: inout RoutingResult) {
        result.matchedRoutes.append(route.name)
        let event = scope.event
        var recipients: [(Int, Result<Recipient, DeliveryRejection>)] = []
        for (index, template) in route.recipients.enumerated() {
            recipients.append((index, resolve(template, scope: scope, route: route.name, index: index)))
        }
        func rejectAll(_ code: DeliveryRejection.Code, _ message: String) {
            for (index, r) in recipients {
                switch r {
                case .success(let recipient):
                    result.rejections.append(
                        DeliveryRejection(
                            eventId: event.id, route: route.name, recipientIndex: index, recipient: recipient,
                            code: code,
                            message: message))
                case .failure(let rejection): result.rejections.append(rejection)
                }
            }
        }
        let action = event.herald.action ?? route.action ?? .send
        var notificationKey = event.herald.notificationKey
        var message = RenderedMessage(body: .none, alert: route.message.alert)
        var deliverAt = event.herald.deliverAt
        var quietHours: QuietHours?
        var localized: [LocalizedMessage] = []
        var locale: String?
        var digest: DigestPlan?
        do throws(TemplateError) {
            if let template = route.digest {
                // Rendered when the digest is sent, from all its items.
                let key = try template.key?.render(in: scope, limits: limits) ?? ""
                digest = DigestPlan(
                    mode: template.mode, window: template.window, maxItems: template.maxItems,
                    minInterval: template.minInterval, key: key, data: event.data)
            }
            if notificationKey == nil, let template = route.notificationKey {
                let key = try template.render(in: scope, limits: limits)
                notificationKey = key.isEmpty ? nil : key
            }
            if action != .delete, digest == nil {
                let stamp = CardActionStamp(
                    route: route.name, eventId: event.id, notificationKey: notificationKey, deliveryId: nil)
                try render(route, scope: scope, stamp: stamp, into: &message)
                if let summary = route.message.summary {
                    message.summary = try summary.render(in: scope, limits: limits)
                }
                localized = try renderLocales(route, scope: scope, stamp: stamp, default: message)
            }
            if !localized.isEmpty || digest != nil, let template = route.locale {
                let text = try template.render(in: scope, limits: limits)
                locale = LocaleMatch.isWellFormed(text) ? text : nil
            }
            if deliverAt == nil, let template = route.deliverAt {
                let text = try template.render(in: scope, limits: limits)
                if !text.isEmpty {
                    guard let date = RFC3339.parse(text) else {
                        rejectAll(.invalidDeliverAt, "deliverAt rendered as a value that is not RFC 3339")
                        return
                    }
                    deliverAt = date
                }
            }
            if let q = route.quietHours {
                var zone = try q.timeZone.render(in: scope, limits: limits)
                if zone.isEmpty || TimeZone(identifier: zone) == nil { zone = "UTC" }
                quietHours = QuietHours(from: q.from, to: q.to, timeZone: zone)
            }
        } catch {
            rejectAll(error.code == .valueTooLarge ? .valueTooLarge : .messageTooLarge, error.description)
            return
        }
        if action != .send, digest != nil {
            rejectAll(.digestAction, "route \(route.name) sends digests: an event cannot \(action.rawValue) through it")
            return
        }
        if action != .send, notificationKey == nil {
            rejectAll(.missingNotificationKey, "\(action.rawValue) needs a notificationKey")
            return
        }
        var expiresAt = event.herald.expiresAt
        if expiresAt == nil, let after = route.expiresAfter {
            let base = event.time.flatMap(RFC3339.parse) ?? now
            let c = after.components
            expiresAt = base.addingTimeInterval(Double(c.seconds) + Double(c.attoseconds) / 1e18)
        }
        for (_, r) in recipients {
            switch r {
            case .success(let recipient):
                var delivery = Delivery(
                    eventId: event.id, route: route.name, recipient: recipient, message: message,
                    notificationKey: notificationKey, action: action, quietHours: quietHours, expiresAt: expiresAt,
                    deliverAt: deliverAt)
                delivery.localized = localized
                delivery.locale = locale
                delivery.digest = digest
                result.deliveries.append(delivery)
            case .failure(let rejection):
                result.rejections.append(rejection)
            }
        }
    }

    /// Every variant of `message.locales`, each the default `message` with its own body and summary (a card of
    /// `cardsByType` for the event's type stays as it is: those are not localized).
    func renderLocales(
        _ route: Route, scope: EvaluationScope, stamp: CardActionStamp, default message: RenderedMessage
    ) throws(TemplateError) -> [LocalizedMessage] {
        guard !route.message.locales.isEmpty else { return [] }
        let typed = route.message.cardsByType[scope.event.type] != nil
        var out: [LocalizedMessage] = []
        out.reserveCapacity(route.message.locales.count)
        for variant in route.message.locales {
            var localized = message
            if let body = variant.body, !typed {
                try render(route, body: body, scope: scope, stamp: stamp, into: &localized)
            }
            if let summary = variant.summary { localized.summary = try summary.render(in: scope, limits: limits) }
            out.append(LocalizedMessage(tag: variant.tag, message: localized))
        }
        return out
    }

    /// The route's body for the event; a card's buttons carry `stamp` and, for `optOut` routes, the opt-out.
    func render(
        _ route: Route, scope: EvaluationScope, stamp: CardActionStamp, into message: inout RenderedMessage
    ) throws(TemplateError) {
        if !route.message.cardsByType.isEmpty, let byType = route.message.cardsByType[scope.event.type] {
            try render(route, body: .card(byType), scope: scope, stamp: stamp, into: &message)
        } else {
            try render(route, body: route.message.body, scope: scope, stamp: stamp, into: &message)
        }
    }

    /// `body` rendered for the event.
    func render(
        _ route: Route, body: MessageTemplate.Body, scope: EvaluationScope, stamp: CardActionStamp,
        into message: inout RenderedMessage
    ) throws(TemplateError) {
        let card: CardTemplate
        switch body {
        case .text(let t):
            message.body = .text(try t.render(in: scope, limits: limits))
            message.deliveryIdSlots = []
            message.keepsCard = false
            return
        case .card(let c): card = c
        }
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        message.deliveryIdSlots = try card.render(
            in: scope, limits: limits, stamp: stamp, optOut: route.optOut ? OptOutButton() : nil, into: &out)
        message.body = .card(out)
        message.keepsCard = route.optOut || card.verbs.contains(CardVerb.ack)
    }
}
