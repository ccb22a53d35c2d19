import BotConnector
import Foundation
import HeraldConfig
import Kafka
import Logging
import Metrics
import RateLimiting
import Routing
import Store

/// The driver of ``DeliveryMachine``: it performs each action (ledger and lookups, the rate governor, Teams,
/// Graph, Kafka) and reports what happened. It decides nothing a machine can decide.
extension Worker {
    /// Runs one work item from a lane to its published outcome, then completes its record or deferral.
    func process(_ item: WorkItem) async {
        defer { stats.admitted(-1) }
        if await drive(item) != .abandoned { await complete(item) }
    }

    /// The item's outcome is published: count its record down, delete its deferral, or finish its digest's send.
    func complete(_ item: WorkItem) async {
        switch item.origin {
        case .record(let ticket): finish(ticket)
        case .deferred(let id):
            // If this fails, the deferral comes due again and the ledger answers Duplicate.
            await untilStored(item) { try await self.ledger.completeDeferred(id) }
        case .digest(let send):
            // If this fails, the digest comes due again and the ledger finds this send's outcome published.
            await finishDigest(send)
        }
    }

    /// What the driver keeps between the actions of one delivery.
    private struct Drive {
        var activity: MessageActivity?
        /// The machine's message (in the recipient's language), for the first request that carries it.
        var message: RenderedMessage?
        /// When the rate governor last let a request go (its round trip, for the governor's jitter allowance).
        var departed: ContinuousClock.Instant
        /// The delivery's id is in ``Worker/localClaims``.
        var holdsLocalClaim = false
        /// The reads the machine makes after its claim (``DeliveryMachine/readsAfterClaim``): the first claim that
        /// claims makes them too, and each answer is used once.
        var readsAfterClaim: (optOut: OptOutCheck?, reference: ReferenceQuery?) = (nil, nil)
        var readWithClaim = false
        var optedOut: (check: OptOutCheck, value: Bool)?
        var reference: ClaimAnswer.Reference?
    }

    /// Performs one delivery's actions until its machine finishes.
    func drive(_ item: WorkItem) async -> DeliveryMachine.Ending {
        var settings = machineSettings
        settings.onUncertain = uncertainPolicies[item.delivery.route] ?? options.onUncertain
        var machine = DeliveryMachine(item: item, settings: settings)
        var drive = Drive(departed: options.clock.now)
        drive.readsAfterClaim = machine.readsAfterClaim
        var action = machine.next(after: .start, now: now())
        while true {
            if case .finish(let ending) = action {
                if ending == .replayed { stats.replayed() }
                if drive.holdsLocalClaim { _ = localClaims.withLock { $0.remove(item.deliveryId) } }
                return ending
            }
            let event: DeliveryMachine.Event
            if action.startsWork, liveness(item) != .live {
                event = .stopped
            } else {
                if case .request = action, drive.activity == nil { drive.message = machine.message }
                event = await perform(action, item, &drive)
            }
            action = machine.next(after: event, now: now())
        }
    }

    private func perform(
        _ action: DeliveryMachine.Action, _ item: WorkItem, _ drive: inout Drive
    ) async -> DeliveryMachine.Event {
        let id = item.deliveryId
        switch action {
        case .claim:
            if !drive.holdsLocalClaim {
                guard localClaims.withLock({ $0.insert(id).inserted }) else {
                    // Another drive of this worker has the same delivery (one person named twice): it finishes
                    // first, and this one then finds its outcome in the ledger.
                    return .claim(.claimedByOther(worker: options.worker, until: now().addingTimeInterval(0.1)))
                }
                drive.holdsLocalClaim = true
            }
            guard !drive.readWithClaim else { return await stored(item) { .claim(try await self.ledger.claim(id)) } }
            let reads = drive.readsAfterClaim
            guard reads.optOut != nil || reads.reference != nil else {
                return await stored(item) { .claim(try await self.ledger.claim(id)) }
            }
            let request = ClaimWithReads(
                deliveryId: id, route: item.delivery.route, optOut: reads.optOut, reference: reads.reference)
            guard let answer = await untilStored(item, { try await self.ledger.claim(request) }) else {
                return .stopped
            }
            if case .claimed = answer.claim {
                drive.readWithClaim = true
                if let check = reads.optOut, let value = answer.optedOut { drive.optedOut = (check, value) }
                drive.reference = answer.reference
            }
            return .claim(answer.claim)
        case .takeOverUncertain:
            let event = await stored(item) { .tookOver(try await self.ledger.takeOverUncertain(id)) }
            if case .tookOver(true) = event {
                logger.notice("sending again a delivery a stopped worker left uncertain", metadata: item.logMetadata)
                stats.metrics.resentUncertain.increment()
            }
            return event
        case .wait(let duration):
            return await pause(duration, item) ? .waited : .stopped
        case .retry(let delay, let error, let attempt):
            stats.retry()
            logger.debug(
                "retrying after a retryable Teams error",
                metadata: item.logMetadata.merging(
                    ["code": "\(error.teamsCode)", "attempt": "\(attempt)"], uniquingKeysWith: { $1 }))
            return await pause(delay, item) ? .waited : .stopped
        case .checkOptOut(let check):
            if let read = drive.optedOut, read.check == check {
                drive.optedOut = nil
                return .optedOut(read.value)
            }
            let route = item.delivery.route
            return await stored(item) { .optedOut(try await self.lookups.optedOut(check, route: route)) }
        case .storeDeferral(let dueAt):
            guard let payload = try? DeferredPayload(item).encoded() else { return .deferralUnstorable }
            let deferral = DeferredDelivery(id: id, payload: payload, dueAt: dueAt)
            return await stored(item) {
                try await self.ledger.addDeferred(deferral)
                return .deferralStored
            }
        case .joinDigest:
            guard let join = try? digestJoin(item) else { return .deferralUnstorable }
            return await stored(item) { .digestJoined(try await self.ledger.joinDigest(join)) }
        case .lookUpReference(let query):
            if let read = drive.reference, read.query == query {
                drive.reference = nil
                return .reference(read.found)
            }
            return await stored(item) { .reference(try await self.lookups.reference(query)) }
        case .storeReference(let reference):
            return await stored(item) {
                try await self.lookups.store(reference)
                return .referenceStored
            }
        case .forgetReference(let key):
            logger.info("stored conversation not found; creating it again", metadata: item.logMetadata)
            return await stored(item) {
                try await self.lookups.forget(key: key)
                return .referenceForgotten
            }
        case .lookUpPrevious(let key, let recipient):
            return await stored(item) {
                .previous(try await self.lookups.latestSent(notificationKey: key, recipient: recipient))
            }
        case .checkServiceUrl(let serviceUrl):
            do throws(BotConnectorError) {
                _ = try client.resolveServiceUrl(serviceUrl)
                return .serviceUrlChecked(nil)
            } catch {
                return .serviceUrlChecked(error)
            }
        case .waitForCapacity(let conversation, let tenant, let readsMembers):
            guard await waitForCapacity(conversation: conversation, tenant: tenant, readsMembers: readsMembers, item)
            else { return .stopped }
            // The departure counts from here; the ledger write before the request delays arrival, so it is part
            // of the round trip the governor's jitter allowance follows.
            drive.departed = options.clock.now
            return .capacityReady
        case .markSending:
            return await stored(item) {
                try await self.ledger.markSending(id)
                return .markedSending
            }
        case .markNotSending:
            return await stored(item) {
                try await self.ledger.markNotSending(id)
                return .markedNotSending
            }
        case .request(let request, let tenant):
            if drive.activity == nil, request.carriesActivity {
                drive.activity = MessageActivity(message: drive.message ?? item.delivery.message, deliveryId: id)
            }
            return await send(request, tenant: tenant, activity: drive.activity, departed: drive.departed)
        case .markBlocked(let key, let code):
            let at = now()
            await untilStored(item, force: true) { try await self.lookups.markBlocked(key: key, code: code, at: at) }
            return .blockedMarked
        case .install(let userId, let tenantId):
            guard let installer else {
                preconditionFailure("the machine installs only when the worker has an installer")
            }
            let event: DeliveryMachine.Event
            do throws(BotConnectorError) {
                let installation = try await installer.chat(userId: userId, tenantId: tenantId)
                event = .installed(chatId: installation.chatId, installed: installation.installed)
            } catch {
                return .failed(error)
            }
            return liveness(item) == .live ? event : .stopped
        case .recordSent(let sent):
            await untilStored(item, force: true) { try await self.ledger.markSent(sent) }
            return .sentRecorded
        case .fanOut(let members, let tenantId):
            return .membersDone(allCompleted: await fanOut(item, to: members, tenantId: tenantId))
        case .fanOutPeople(let people, let tenantId):
            return .membersDone(allCompleted: await fanOut(item, toPeople: people, tenantId: tenantId))
        case .resolvePerson(let name, let tenantId):
            guard let directory else { preconditionFailure("the machine reads the directory only with a resolver") }
            let event: DeliveryMachine.Event
            do throws(BotConnectorError) {
                event = .person(try await directory.person(name, tenantId: tenantId).user)
            } catch {
                event = .failed(error)
            }
            return liveness(item) == .live ? event : .stopped
        case .readGroupPage(let groupId, let tenantId, let nextLink):
            guard let directory else { preconditionFailure("the machine reads the directory only with a resolver") }
            let event: DeliveryMachine.Event
            do throws(BotConnectorError) {
                event = .groupPage(
                    try await directory.groupPage(
                        groupId: groupId, tenantId: tenantId, nextLink: nextLink, pageSize: options.groupPageSize))
            } catch {
                event = .failed(error)
            }
            return liveness(item) == .live ? event : .stopped
        case .lookUpChannels(let teamId):
            let fresh = options.clock.now - options.channelListCacheFor
            return .channels(
                channelLists.withLock { lists in
                    guard let known = lists[teamId], known.readAt > fresh else { return nil }
                    return known.channels
                })
        case .publish(let outcome):
            // Its partition is no longer ours: the new owner publishes.
            guard liveness(item) != .stale else { return .stopped }
            if let send = item.digestSend {
                let published = await withTaskGroup(of: Bool.self) { group in
                    for each in send.memberOutcomes(outcome) {
                        group.addTask { await self.publish(each, traceparent: nil, ticket: nil) }
                    }
                    return await group.allSatisfy { $0 }
                }
                return published ? .published : .stopped
            }
            return await publish(outcome, traceparent: item.event.traceparent, ticket: item.recordTicket)
                ? .published : .stopped
        case .markPublished:
            let input = item.event.input.coordinates
            await untilStored(item) { try await self.ledger.markOutcomePublished(id, input: input) }
            // Each member's record, read again, then finds its outcome published.
            await withTaskGroup(of: Void.self) { group in
                for member in item.digestSend?.members ?? [] {
                    let (memberId, memberInput) = (member.item.deliveryId, member.item.input.coordinates)
                    group.addTask {
                        await self.untilStored(item) {
                            try await self.ledger.markOutcomePublished(memberId, input: memberInput)
                        }
                    }
                }
            }
            return .markedPublished
        case .release:
            try? await ledger.release(id)
            return .released
        case .finish:
            preconditionFailure("a finished delivery has no action to perform")
        }
    }

    /// A store call's answer as an event; ``DeliveryMachine/Event/stopped`` when the delivery had to stop first.
    private func stored(
        _ item: WorkItem, _ call: () async throws -> DeliveryMachine.Event
    ) async -> DeliveryMachine.Event {
        await untilStored(item, call) ?? .stopped
    }

    // MARK: Teams

    /// Waits until the rate governor lets a request go; false when the delivery must stop first.
    private func waitForCapacity(
        conversation: String, tenant: String, readsMembers: Bool, _ item: WorkItem
    ) async -> Bool {
        let clock = options.clock
        let reservedAt = clock.now
        let wait = governor.withLock {
            $0.reserve(conversation: conversation, tenant: tenant, readsMembers: readsMembers, now: reservedAt)
        }
        var waited = wait
        if wait > .zero {
            guard await pause(wait, item) else { return false }
        }
        // Last before the request: the tenant's real send rate (see RateGovernor.confirm); a request it holds back
        // counts for its conversation from when it goes.
        while let more = governor.withLock({
            $0.confirm(
                tenant: tenant, conversation: conversation, readsMembers: readsMembers, reserved: reservedAt + wait,
                now: clock.now)
        }) {
            guard await pause(more, item) else { return false }
            waited += more
        }
        stats.metrics.rateLimiterWait.record(duration: waited)
        return true
    }

    /// Makes one request and reports its answer; a 429 slows the tenant down for the whole worker.
    private func send(
        _ request: DeliveryMachine.Request, tenant: String, activity: MessageActivity?,
        departed: ContinuousClock.Instant
    ) async -> DeliveryMachine.Event {
        stats.request()
        let clock = options.clock
        let started = clock.now
        let answer: DeliveryMachine.Answer
        do throws(BotConnectorError) {
            answer = try await call(request, activity: activity ?? MessageActivity(body: .text("")))
        } catch {
            answered(request.operation, after: clock.now - started, sinceDeparture: clock.now - departed)
            if error.code == .throttled {
                stats.throttled(request.operation)
                let now = clock.now
                governor.withLock { $0.throttled(tenant: tenant, retryAfter: error.retryAfter, now: now) }
            }
            return .failed(error)
        }
        answered(request.operation, after: clock.now - started, sinceDeparture: clock.now - departed)
        return .answered(answer)
    }

    private func call(
        _ request: DeliveryMachine.Request, activity: MessageActivity
    ) async throws(BotConnectorError) -> DeliveryMachine.Answer {
        switch request {
        case .createConversation(let target, let tenantId):
            return .conversation(
                try await client.createConversation(
                    serviceUrl: nil, ConversationParameters(target: target, tenantId: tenantId)))
        case .createThread(let channelId, let tenantId, let serviceUrl):
            return .conversation(
                try await client.createConversation(
                    serviceUrl: serviceUrl,
                    ConversationParameters(target: .channel(id: channelId), tenantId: tenantId, activity: activity)))
        case .send(let conversationId, let serviceUrl):
            return .activityId(
                try await client.sendActivity(serviceUrl: serviceUrl, conversationId: conversationId, activity))
        case .update(let conversationId, let serviceUrl, let activityId):
            return .activityId(
                try await client.updateActivity(
                    serviceUrl: serviceUrl, conversationId: conversationId, activityId: activityId, activity))
        case .delete(let conversationId, let serviceUrl, let activityId):
            try await client.deleteActivity(
                serviceUrl: serviceUrl, conversationId: conversationId, activityId: activityId)
            return .activityId(activityId)
        case .members(let teamId, let continuationToken):
            return .members(
                try await client.membersPage(
                    serviceUrl: nil, conversationId: teamId, continuationToken: continuationToken))
        case .channels(let teamId):
            let channels = try await client.teamChannels(serviceUrl: nil, teamId: teamId)
            let readAt = options.clock.now
            channelLists.withLock { $0[teamId] = (channels, readAt) }
            return .channels(channels)
        }
    }

    /// A Teams call returned (or failed): its latency, and the time since the governor let it go for its
    /// jitter allowance.
    private func answered(_ kind: EngineMetrics.Operation, after latency: Duration, sinceDeparture: Duration) {
        stats.metrics.sent(kind, duration: latency)
        let now = options.clock.now
        governor.withLock { $0.observe(roundTrip: sinceDeparture, now: now) }
    }

    // MARK: Fan-out

    /// Delivers to every member of a team as a 1:1 delivery with its own id and outcome; true when every
    /// member's delivery completed.
    private func fanOut(_ item: WorkItem, to members: [TeamsMember], tenantId: String?) async -> Bool {
        await fanOut(
            item,
            members.lazy.map { member in
                (
                    Recipient.user(
                        userId: member.id, aadObjectId: member.aadObjectId, tenantId: tenantId ?? member.tenantId),
                    item.delivery.deliveryId(forMember: member.id)
                )
            })
    }

    /// Delivers to each person of a tenant's directory (Entra object ids) as a 1:1 delivery whose id is the
    /// person's identity; true when every delivery completed. Two entries of one route naming one person (a group
    /// and an email, or a person in two nested groups) share that id: the ledger lets only one message go.
    private func fanOut(_ item: WorkItem, toPeople people: [String], tenantId: String) async -> Bool {
        await fanOut(
            item,
            people.lazy.map { person in
                let recipient = Recipient.user(userId: nil, aadObjectId: person, tenantId: tenantId)
                return (
                    recipient,
                    Delivery.deliveryId(
                        eventId: item.delivery.eventId, route: item.delivery.route,
                        recipientIdentity: recipient.identity)
                )
            })
    }

    /// Drives one delivery per (recipient, delivery id), `memberConcurrency` at a time.
    private func fanOut(
        _ item: WorkItem, _ members: some Sequence<(Recipient, String)>
    ) async -> Bool {
        let concurrency = max(1, options.memberConcurrency)
        return await withTaskGroup(of: Bool.self) { group in
            var all = true
            for (index, (recipient, deliveryId)) in members.enumerated() {
                if index >= concurrency, let done = await group.next() { all = all && done }
                var memberItem = item
                memberItem.delivery.recipient = recipient
                memberItem.deliveryId = deliveryId
                group.addTask { await self.drive(memberItem) != .abandoned }
            }
            for await done in group { all = all && done }
            return all
        }
    }

    // MARK: Waiting

    /// Sleeps, waking early (false) when the delivery must stop.
    func pause(_ duration: Duration, _ item: WorkItem) async -> Bool {
        var remaining = duration
        while remaining > .zero {
            guard liveness(item) == .live, !Task.isCancelled else { return false }
            let slice = min(remaining, .milliseconds(200))
            try? await options.clock.sleep(for: slice)
            remaining -= slice
        }
        return liveness(item) == .live
    }

    /// Runs a store call, retrying while the store is unreachable; nil when the delivery had to stop first.
    /// `force` keeps retrying whatever the delivery's state (recording a send that happened).
    @discardableResult
    func untilStored<T>(_ item: WorkItem, force: Bool = false, _ call: () async throws -> T) async -> T? {
        await untilStored(metadata: item.logMetadata, force: force, isLive: { self.liveness(item) == .live }, call)
    }

    /// ``untilStored(_:force:_:)`` for a call about a record rather than a delivery: it stops once the record's
    /// partition is no longer ours or the drain parks.
    func untilStored<T>(
        _ ticket: RecordTicket, metadata: @autoclosure () -> Logger.Metadata, _ call: () async throws -> T
    ) async -> T? {
        await untilStored(
            metadata: metadata(), force: false,
            isLive: { !self.isStale(ticket) && !self.state.withLock { $0.parking } }, call)
    }

    /// `metadata` is made only when a failure is logged: a store call that succeeds builds no log fields.
    private func untilStored<T>(
        metadata: @autoclosure () -> Logger.Metadata, force: Bool, isLive: () -> Bool, _ call: () async throws -> T
    ) async -> T? {
        var failures = 0
        while true {
            do {
                return try await call()
            } catch {
                failures += 1
                if failures == 1 || failures % 30 == 0 {
                    logger.error(
                        "store call failed; retrying",
                        metadata: metadata().merging(["error": "\(error)"], uniquingKeysWith: { $1 }))
                }
                if !force, !isLive() { return nil }
                // A send that happened is recorded for about ten minutes of store outage before it is given up.
                if force, failures > 600 { return nil }
                try? await options.clock.sleep(for: RetryPolicy.store.delay(afterFailures: failures))
            }
        }
    }
}

extension DeliveryMachine.Request {
    /// Whether the request carries the delivery's message.
    var carriesActivity: Bool {
        switch self {
        case .createThread, .send, .update: true
        case .createConversation, .delete, .members, .channels: false
        }
    }

    /// The request's metric label.
    var operation: EngineMetrics.Operation {
        switch self {
        case .createConversation, .createThread: .createConversation
        case .send: .send
        case .update: .update
        case .delete: .delete
        case .members: .members
        case .channels: .channels
        }
    }
}

extension MessageActivity {
    /// The activity for a rendered message sent as delivery `deliveryId` (its card's buttons name it).
    init(message: RenderedMessage, deliveryId: String) {
        let body: MessageActivity.Body
        switch message.body(forDelivery: deliveryId) {
        case .text(let text): body = .text(text)
        case .card(let json): body = .adaptiveCard(json: json)
        case .none: body = .text("")
        }
        self.init(body: body, summary: message.summary, alert: message.alert)
    }
}
