import Foundation
import HeraldJSON
import Kafka
import Routing
import Store

/// Digests: deliveries of a digest route wait in the store and go out as one message (batch), or as one message
/// updated in place as more arrive (live). A delivery joins its digest before its record may be committed; the
/// digest's send is a delivery of its own through the ledger, and its outcome is published once per member.
extension Worker {
    /// The store's join for a delivery of a digest route.
    func digestJoin(_ item: WorkItem) throws -> DigestJoin {
        guard let plan = item.delivery.digest else { throw DigestError("the delivery is not of a digest route") }
        let delivery = item.delivery
        let group = Delivery.deliveryId(
            eventId: "digest:" + plan.key, route: delivery.route, recipientIdentity: delivery.recipient.identity)
        let payload = DigestPayload(
            route: delivery.route, recipient: delivery.recipient, key: plan.key, mode: plan.mode,
            minIntervalMs: plan.minInterval.milliseconds, quietHours: delivery.quietHours, locale: delivery.locale)
        return DigestJoin(
            deliveryId: item.deliveryId, groupKey: group, newDigestId: "digest|" + item.deliveryId,
            digestPayload: try payload.encoded(), itemPayload: try DigestItemPayload(item, data: plan.data).encoded(),
            live: plan.mode == .live, window: plan.window, maxItems: plan.maxItems)
    }

    /// Claims due digests and puts each one's send in its recipient's lane. A claim expires if this worker dies,
    /// and another worker sends it: the ledger keeps a send that happened from happening again.
    func digestLoop() async {
        while !Task.isCancelled, !state.withLock({ $0.draining }) {
            try? await options.clock.sleep(for: options.deferredPollInterval)
            // Woken by the drain: claim nothing that this worker would no longer send (it would wait a lease).
            guard !Task.isCancelled, !state.withLock({ $0.draining }) else { return }
            guard lanes.admitted < options.maxInFlight else { continue }
            let due: [DueDigest]
            do {
                due = try await ledger.claimDueDigests(limit: min(200, options.maxInFlight - lanes.admitted))
            } catch {
                logger.warning("cannot read due digests", metadata: ["error": "\(error)"])
                continue
            }
            for digest in due { await dispatch(digest) }
        }
    }

    private func dispatch(_ digest: DueDigest) async {
        let payload: DigestPayload
        let items: [(DigestItem, DigestItemPayload)]
        do {
            payload = try DigestPayload.decode(digest.payload)
            items = try digest.items.map { ($0, try DigestItemPayload.decode($0.payload)) }
        } catch {
            await deadLetter(digest, error: error)
            return
        }
        let now = self.now()
        let minInterval = Duration.milliseconds(payload.minIntervalMs)
        guard digest.upTo > digest.sentCount else {
            // A live digest whose window closed with everything shown: it leaves the store.
            do {
                try await ledger.store.advanceDigest(digest.id, sentCount: digest.sentCount, nextAt: now, now: now)
            } catch {
                logger.warning("cannot finish a digest", metadata: ["digestId": "\(digest.id)", "error": "\(error)"])
            }
            return
        }
        // Quiet hours move the send, not the window: the digest is closed and waits for them to end.
        if let end = payload.quietHours?.end(after: now) {
            do {
                try await ledger.store.rescheduleDigest(digest.id, dueAt: end)
            } catch {
                logger.warning("cannot postpone a digest", metadata: ["digestId": "\(digest.id)", "error": "\(error)"])
            }
            return
        }
        var members: [DigestSend.Member] = []
        var shownData: [JSONValue] = []
        for (item, member) in items {
            let expired = member.expiresAt.map { $0 <= now } ?? false
            let pending = item.position > digest.sentCount
            if pending { members.append(.init(item: member, position: item.position, expired: expired)) }
            // A live message keeps what it showed; an item that expired while waiting is left out.
            if !pending || !expired { shownData.append((try? JSONParser.parse(Array(member.data.utf8))) ?? .null) }
        }
        var problem: DeliveryOutcome.ErrorInfo?
        var message = RenderedMessage(body: .none)
        var localized: [LocalizedMessage] = []
        do throws(TemplateError) {
            if let rendered = try router.renderDigest(
                route: payload.route, items: shownData, key: payload.key, digestId: digest.id)
            {
                (message, localized) = rendered
            } else {
                problem = .init(
                    code: "DigestRouteMissing",
                    message: "route \(payload.route) is no longer a digest route; its digest cannot be rendered",
                    retryable: false)
            }
        } catch {
            problem = .init(
                code: error.code == .valueTooLarge ? "ValueTooLarge" : "MessageTooLarge", message: error.description,
                retryable: false)
        }
        let waiting = members.filter { !$0.expired }
        // The send expires with its last member: when every one of them expired, nothing is sent.
        let expiresAt: Date? =
            waiting.isEmpty
            ? now.addingTimeInterval(-1)
            : waiting.contains { $0.item.expiresAt == nil } ? nil : waiting.compactMap(\.item.expiresAt).max()
        let send = DigestSend(
            id: digest.id, live: digest.live, upTo: digest.upTo, sentCount: digest.sentCount, members: members,
            shown: max(1, shownData.count), minInterval: minInterval, problem: problem)
        guard let first = members.first?.item else {
            // The store holds fewer items than the digest counts: nothing is left to send.
            logger.error("a due digest has no items to send", metadata: ["digestId": "\(digest.id)"])
            try? await ledger.store.advanceDigest(digest.id, sentCount: digest.upTo, nextAt: now, now: now)
            if !digest.live { try? await ledger.store.completeDigest(digest.id) }
            return
        }
        var delivery = Delivery(
            eventId: digest.id, route: payload.route, recipient: payload.recipient, message: message,
            notificationKey: digest.live ? "herald-digest:" + digest.id : nil,
            action: digest.live && digest.sentCount > 0 ? .update : .send, quietHours: nil, expiresAt: expiresAt,
            deliverAt: nil)
        delivery.localized = localized
        delivery.locale = payload.locale
        let event = NotificationEvent(
            id: digest.id, type: first.eventType, source: first.eventSource, subject: nil, time: nil, data: .null,
            herald: HeraldInstructions(), traceparent: first.traceparent, input: first.input)
        // The send's own clock (`giveUpAfter`) starts now; each member's latency counts from its own event.
        var work = WorkItem(delivery: delivery, event: event, origin: .digest(send), now: now)
        work.deliveryId = send.deliveryId
        work.startedAt = now
        work.wasDeferred = true
        state.withLock { $0.incoming.append(work) }
    }

    /// The digest's send is over (its outcomes published, or published before by a worker that stopped): a batch
    /// digest leaves the store; a live one waits for more, its next update no sooner than `minInterval`.
    func finishDigest(_ send: DigestSend) async {
        let now = self.now()
        do {
            if send.live {
                try await ledger.store.advanceDigest(
                    send.id, sentCount: send.upTo,
                    nextAt: now.addingTimeInterval(Double(send.minInterval.milliseconds) / 1000), now: now)
            } else {
                try await ledger.store.completeDigest(send.id)
            }
        } catch {
            logger.warning(
                "cannot finish a digest; it comes due again and the ledger keeps it from being sent twice",
                metadata: ["digestId": "\(send.id)", "error": "\(error)"])
        }
    }

    /// A stored digest that cannot be read goes, with its items, to the dead-letter topic, then leaves the store.
    private func deadLetter(_ digest: DueDigest, error: any Error) async {
        logger.error(
            "a stored digest cannot be read; sent to the dead-letter topic",
            metadata: ["digestId": "\(digest.id)", "error": "\(error)"])
        for bytes in [digest.payload] + digest.items.map(\.payload) {
            let letter = ProducerMessage(
                topic: options.deadLetterTopic, key: Array(digest.id.utf8), value: bytes,
                headers: [
                    KafkaHeader(name: EventDecodingError.DeadLetterHeader.errorCode, string: "DigestUnreadable"),
                    KafkaHeader(
                        name: EventDecodingError.DeadLetterHeader.errorMessage,
                        string: "stored digest unreadable: \(error)"),
                ])
            guard await produceDeadLetter(letter, ticket: nil) else { return }
        }
        try? await ledger.store.completeDigest(digest.id)
    }
}

struct DigestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
