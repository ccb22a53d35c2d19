import BotConnector
import Foundation
import HeraldConfig
import Kafka
import Logging
import Metrics
import Routing
import Store

extension Worker {
    /// How one delivery ended. Indirect: an outcome is large, and every frame on the delivery path holds a step.
    indirect enum Step {
        /// A final outcome: publish it, then mark the ledger entry published.
        case final(DeliveryOutcome)
        /// Deferred (durably, in the store): publish the informational outcome and give the claim back.
        case deferred(DeliveryOutcome)
        /// A different record carrying an event already delivered (an upstream duplicate): say so, touch
        /// nothing.
        case duplicate(DeliveryOutcome)
        /// This same record was read again (a crash, rebalance or outage) and its outcome is already on the
        /// topic: publish nothing, so a view keyed by delivery id never sees a contradiction.
        case replayed
        /// Stopped (revoke, shutdown): no outcome; the claim is given back and the record not committed.
        case abandoned
    }

    /// What one delivery has done so far: the outcome's fields.
    struct Run {
        var claimed = false
        var claimedAt = ContinuousClock.now
        var attempts = 0
        var throttled = 0
        var firstAttemptAt: Date?
        var conversationId: String?
        var serviceUrl: String?
        var activityId: String?
        var sent = false
        /// The app was installed for the recipient through Graph to reach them.
        var installedApp = false
    }

    /// Where a delivery goes.
    struct Target {
        var conversationId: String
        var serviceUrl: String?
        var tenantId: String
        /// The stored reference used, if any (marked blocked or forgotten on the matching Teams errors).
        var referenceKey: String?
        /// How to create the conversation again after Teams forgot it (404 on a stored reference).
        var recreate: ConversationParameters.Target?
    }

    /// Runs one work item from a lane to its published outcome.
    func process(_ item: WorkItem) async {
        defer { stats.admitted(-1) }
        if case .teamMembers = item.delivery.recipient {
            await fanOut(item)
            return
        }
        if await deliverAndPublish(item) { await complete(item) }
    }

    /// One member of a team fan-out.
    func deliverMember(_ item: WorkItem) async -> Bool {
        await deliverAndPublish(item)
    }

    /// Delivers one item and publishes its outcome; returns false when it was abandoned.
    private func deliverAndPublish(_ item: WorkItem) async -> Bool {
        var run = Run()
        let step = await deliver(item, &run)
        if liveness(item) == .stale {
            if run.claimed && !run.sent { try? await ledger.release(item.deliveryId) }
            return false
        }
        switch step {
        case .abandoned:
            if run.claimed && !run.sent { try? await ledger.release(item.deliveryId) }
            return false
        case .replayed:
            stats.replayed()
            return true
        case .duplicate(let outcome):
            return await publish(outcome, traceparent: item.event.traceparent, ticket: item.recordTicket)
        case .deferred(let outcome):
            guard await publish(outcome, traceparent: item.event.traceparent, ticket: item.recordTicket) else {
                return false
            }
            if run.claimed { try? await ledger.release(item.deliveryId) }
            return true
        case .final(let outcome):
            guard await publish(outcome, traceparent: item.event.traceparent, ticket: item.recordTicket) else {
                return false
            }
            let input = item.event.input.coordinates
            await untilStored(item) { try await self.ledger.markOutcomePublished(item.deliveryId, input: input) }
            return true
        }
    }

    /// The item's outcome is published: count its record down, or delete its deferral.
    func complete(_ item: WorkItem) async {
        switch item.origin {
        case .record(let ticket): finish(ticket)
        case .deferred(let id):
            // If this fails, the deferral comes due again and the ledger answers Duplicate.
            await untilStored(item) { try await self.store.completeDeferred([id]) }
        }
    }

    // MARK: The pipeline

    private func deliver(_ item: WorkItem, _ run: inout Run) async -> Step {
        // 1. The ledger: never twice, whatever restarts and rebalances did.
        while true {
            guard liveness(item) == .live else { return .abandoned }
            guard let claim = await untilStored(item, { try await self.ledger.claim(item.deliveryId) }) else {
                return .abandoned
            }
            switch claim {
            case .claimed:
                run.claimed = true
                run.claimedAt = .now
            case .alreadySent(let entry):
                // Sent by a worker that stopped before publishing: publish what it did.
                run.conversationId = entry.conversationId
                run.activityId = entry.activityId
                run.serviceUrl = entry.serviceUrl
                run.attempts = entry.attempts
                return .final(outcome(item, run, status: sentStatus(item.delivery.action)))
            case .outcomePublished(let entry):
                if entry.input == item.event.input.coordinates { return .replayed }
                var duplicate = outcome(
                    item, run, status: .suppressed,
                    error: .init(
                        code: "Duplicate", message: "this event was delivered to this recipient before",
                        retryable: false))
                duplicate.duplicateOf = entry.input.flatMap(InputPosition.init(coordinates:))
                return .duplicate(duplicate)
            case .uncertain:
                // The worker that owned it died mid-request: Teams may have the message.
                if uncertainPolicy(item) == .resend {
                    // At least once: take it over and send it again.
                    guard
                        let taken = await untilStored(
                            item, { try await self.ledger.takeOverUncertain(item.deliveryId) })
                    else { return .abandoned }
                    guard taken else { continue }  // another worker took it first: ask again
                    logger.notice(
                        "sending again a delivery a stopped worker left uncertain", metadata: item.logMetadata)
                    stats.metrics.resentUncertain.increment()
                    run.claimed = true
                    run.claimedAt = .now
                    break
                }
                // Sending again could duplicate it, so say so instead.
                return .final(
                    outcome(
                        item, run, status: .failed,
                        error: .init(
                            code: "DeliveryUncertain",
                            message:
                                "the worker sending this stopped during the Teams request; it was not sent again to avoid a duplicate",
                            retryable: true)))
            case .claimedByOther(_, let until):
                // Another worker holds it (it is finishing after a rebalance, or was killed): wait for it.
                let wait = max(.milliseconds(100), min(.seconds(1), Duration.seconds(until.timeIntervalSinceNow)))
                guard await pause(wait, item) else { return .abandoned }
                continue
            }
            break
        }
        let delivery = item.delivery
        if let expiresAt = delivery.expiresAt, expiresAt <= Date() {
            return .final(
                outcome(
                    item, run, status: .expired,
                    error: .init(code: "Expired", message: "expired at \(RFC3339.format(expiresAt))", retryable: false))
            )
        }
        // 2. Opt-outs of users known before resolution.
        if case .user(let userId, let aad, let tenant) = delivery.recipient, let tenant, !tenant.isEmpty {
            if let step = await optOutCheck(item, OptOutCheck(tenantId: tenant, userId: userId, aadObjectId: aad), run)
            {
                return step
            }
        }
        // 3. Deferral: later delivery and quiet hours wait durably in the store.
        if !item.wasDeferred, let dueAt = dueDate(delivery, now: Date()) {
            let payload: [UInt8]
            do {
                payload = try DeferredPayload(item).encoded()
            } catch {
                return .final(
                    rejected(item, run, code: "Unstorable", message: "the delivery cannot be stored for later"))
            }
            let deferral = DeferredDelivery(id: item.deliveryId, payload: payload, dueAt: dueAt)
            guard await untilStored(item, { try await self.store.addDeferred([deferral]) }) != nil else {
                return .abandoned
            }
            var deferred = outcome(item, run, status: .deferred)
            deferred.completedAt = RFC3339.format(Date())
            return .deferred(deferred)
        }
        // 4. The conversation.
        let target: Target
        switch await resolve(item, &run) {
        case .success(let resolved): target = resolved
        case .failure(let error): return error.step
        }
        run.conversationId = target.conversationId
        run.serviceUrl = target.serviceUrl
        // 5. Send, update or delete.
        return await perform(item, target, &run)
    }

    private func sentStatus(_ action: DeliveryAction) -> DeliveryOutcome.Status {
        switch action {
        case .send: .delivered
        case .update: .updated
        case .delete: .deleted
        }
    }

    private func optOutCheck(_ item: WorkItem, _ check: OptOutCheck, _ run: Run) async -> Step? {
        let route = item.delivery.route
        guard let optedOut = await untilStored(item, { try await self.lookups.optedOut(check, route: route) }) else {
            return .abandoned
        }
        guard optedOut else { return nil }
        return .final(
            outcome(
                item, run, status: .suppressed,
                error: .init(code: "OptedOut", message: "the recipient opted out", retryable: false)))
    }

    /// When a delivery that is not due yet becomes due: `deliverAt`, or the end of the recipient's quiet hours.
    func dueDate(_ delivery: Delivery, now: Date) -> Date? {
        if let deliverAt = delivery.deliverAt, deliverAt > now.addingTimeInterval(0.5) { return deliverAt }
        if let quiet = delivery.quietHours { return quiet.end(after: now) }
        return nil
    }

    // MARK: Resolving the conversation

    private func resolve(_ item: WorkItem, _ run: inout Run) async -> Result<Target, StepError> {
        switch item.delivery.recipient {
        case .user(let userId, let aad, let tenant):
            guard let tenant, !tenant.isEmpty else {
                return .failure(
                    StepError(
                        .final(
                            rejected(item, run, code: "MissingTenantId", message: "a user recipient needs a tenantId")))
                )
            }
            let lookup: ConversationReference?? = await untilStored(item) {
                if let aad { return try await self.lookups.reference(.aadObject(tenantId: tenant, aadObjectId: aad)) }
                return try await self.lookups.reference(.user(tenantId: tenant, userId: userId ?? ""))
            }
            guard let stored = lookup else { return .failure(StepError(.abandoned)) }
            let parameters: ConversationParameters.Target = aad.map { .userAADObjectId($0) } ?? .user(id: userId ?? "")
            if let reference = stored {
                if let step = blockedStep(item, reference, run) { return .failure(StepError(step)) }
                return .success(
                    Target(
                        conversationId: reference.conversationId, serviceUrl: reference.serviceUrl, tenantId: tenant,
                        referenceKey: reference.key, recreate: parameters))
            }
            return await create(item, parameters, tenant: tenant, key: item.delivery.recipient.identity, &run)
        case .conversation(let id, let serviceUrl, let tenant):
            return .success(Target(conversationId: id, serviceUrl: serviceUrl, tenantId: tenant ?? ""))
        case .reference(let key):
            guard let lookup = await untilStored(item, { try await self.lookups.reference(.key(key)) }) else {
                return .failure(StepError(.abandoned))
            }
            guard let reference = lookup else {
                return .failure(
                    StepError(
                        .final(
                            outcome(
                                item, run, status: .failed,
                                error: .init(
                                    code: "ReferenceNotFound", message: "no stored conversation reference has this key",
                                    retryable: false)))))
            }
            if let step = blockedStep(item, reference, run) { return .failure(StepError(step)) }
            if reference.scope == .personal, !reference.tenantId.isEmpty,
                let step = await optOutCheck(
                    item,
                    OptOutCheck(
                        tenantId: reference.tenantId, userId: reference.userId, aadObjectId: reference.aadObjectId), run
                )
            {
                return .failure(StepError(step))
            }
            let recreate: ConversationParameters.Target? =
                reference.scope != .personal
                ? nil : reference.aadObjectId.map { .userAADObjectId($0) } ?? reference.userId.map { .user(id: $0) }
            return .success(
                Target(
                    conversationId: reference.conversationId, serviceUrl: reference.serviceUrl,
                    tenantId: reference.tenantId, referenceKey: reference.key, recreate: recreate))
        case .channel(_, let channelId, let tenant, let threadId):
            guard let tenant, !tenant.isEmpty else {
                return .failure(
                    StepError(
                        .final(
                            rejected(
                                item, run, code: "MissingTenantId", message: "a channel recipient needs a tenantId"))))
            }
            // A new thread is created together with its first message (see perform); a reply goes to the thread.
            let conversation = threadId.map { "\(channelId);messageid=\($0)" } ?? channelId
            return .success(Target(conversationId: conversation, serviceUrl: nil, tenantId: tenant))
        case .teamMembers:
            return .failure(
                StepError(
                    .final(rejected(item, run, code: "BadRecipient", message: "a team is not a single recipient"))))
        }
    }

    /// A `Step` carried in a `Result`'s failure.
    struct StepError: Error {
        var step: Step
        init(_ step: Step) { self.step = step }
    }

    private func blockedStep(_ item: WorkItem, _ reference: ConversationReference, _ run: Run) -> Step? {
        guard let blockedAt = reference.blockedAt,
            Date().timeIntervalSince(blockedAt) < Double(options.blockedRecheckAfter.components.seconds)
        else { return nil }
        return .final(
            outcome(
                item, run, status: .suppressed,
                error: .init(
                    code: "RecipientBlocked",
                    message: "the recipient blocked or removed the bot (\(reference.blockCode ?? "blocked"))",
                    retryable: false)))
    }

    /// Creates a 1:1 conversation and stores its reference under `key`.
    private func create(
        _ item: WorkItem, _ parameters: ConversationParameters.Target, tenant: String, key: String, _ run: inout Run
    ) async -> Result<Target, StepError> {
        let client = self.client
        let result = await attempt(
            item, &run, .createConversation, serviceUrl: nil, conversation: item.delivery.recipient.identity,
            tenant: tenant, carriesMessage: false
        ) {
            () async throws(BotConnectorError) -> ConversationResource in
            try await client.createConversation(
                serviceURL: nil, ConversationParameters(target: parameters, tenantId: tenant))
        }
        switch result {
        case .success(let resource):
            let serviceUrl = resource.serviceUrl ?? client.configuration.effectiveDefaultServiceURL
            var userId: String?
            var aad: String?
            switch parameters {
            case .user(let id): userId = id
            case .userAADObjectId(let id): aad = id
            case .channel: break
            }
            let reference = ConversationReference(
                key: key, conversationId: resource.id, serviceUrl: serviceUrl,
                tenantId: tenant, userId: userId, aadObjectId: aad, scope: .personal)
            guard await untilStored(item, { try await self.store.upsertReferences([reference]) }) != nil else {
                return .failure(StepError(.abandoned))
            }
            return .success(
                Target(
                    conversationId: resource.id, serviceUrl: serviceUrl, tenantId: tenant, referenceKey: reference.key,
                    recreate: parameters))
        case .failure(let step):
            // Teams will not open a chat with a user who never installed the app: install it for them.
            if let installer, case .userAADObjectId(let aad) = parameters, case .final(let outcome) = step.step,
                let code = outcome.error?.code,
                code == BotConnectorError.Code.forbiddenOperation.teamsName
                    || code == BotConnectorError.Code.botNotInConversationRoster.teamsName
            {
                return await install(item, with: installer, aad: aad, tenant: tenant, key: key, &run)
            }
            return .failure(step)
        }
    }

    /// Installs the app for the user through Graph, stores the chat it opened as their reference and returns
    /// it as the target.
    private func install(
        _ item: WorkItem, with installer: AppInstaller, aad: String, tenant: String, key: String, _ run: inout Run
    ) async -> Result<Target, StepError> {
        let installation: AppInstaller.Installation
        do throws(BotConnectorError) {
            installation = try await installer.chat(userId: aad, tenantId: tenant)
        } catch {
            return .failure(StepError(.final(failed(item, run, error))))
        }
        guard liveness(item) == .live else { return .failure(StepError(.abandoned)) }
        run.installedApp = run.installedApp || installation.installed
        let serviceUrl = client.configuration.effectiveDefaultServiceURL
        let reference = ConversationReference(
            key: key, conversationId: installation.chatId, serviceUrl: serviceUrl, tenantId: tenant, userId: nil,
            aadObjectId: aad, scope: .personal)
        guard await untilStored(item, { try await self.store.upsertReferences([reference]) }) != nil else {
            return .failure(StepError(.abandoned))
        }
        return .success(
            Target(
                conversationId: installation.chatId, serviceUrl: serviceUrl, tenantId: tenant,
                referenceKey: reference.key, recreate: .userAADObjectId(aad)))
    }

    // MARK: Sending

    private func perform(_ item: WorkItem, _ target: Target, _ run: inout Run) async -> Step {
        let delivery = item.delivery
        let activity = MessageActivity(message: delivery.message, deliveryId: item.deliveryId)
        let client = self.client
        switch delivery.action {
        case .send:
            if case .channel(_, let channelId, _, nil) = delivery.recipient {
                let parameters = ConversationParameters(
                    target: .channel(id: channelId), tenantId: target.tenantId, activity: activity)
                let result = await attempt(
                    item, &run, .createConversation, serviceUrl: target.serviceUrl, conversation: channelId,
                    tenant: target.tenantId
                ) {
                    () async throws(BotConnectorError) -> ConversationResource in
                    try await client.createConversation(serviceURL: target.serviceUrl, parameters)
                }
                switch result {
                case .success(let resource):
                    run.conversationId = resource.id
                    run.serviceUrl = resource.serviceUrl ?? client.configuration.effectiveDefaultServiceURL
                    return await recordSent(item, activityId: resource.activityId ?? "", &run)
                case .failure(let error): return error.step
                }
            }
            return await send(item, target, activity, &run, recreated: false)
        case .update, .delete:
            guard let key = delivery.notificationKey else {
                return .final(
                    rejected(
                        item, run, code: "MissingNotificationKey", message: "update and delete need a notificationKey"))
            }
            let identity = delivery.recipient.identity
            guard
                let lookup = await untilStored(
                    item, { try await self.store.latestSent(notificationKey: key, recipient: identity) })
            else { return .abandoned }
            guard let previous = lookup, let activityId = previous.activityId,
                let conversationId = previous.conversationId
            else {
                if delivery.action == .update {
                    // Nothing to update (the first message was never sent): send it instead.
                    return await send(item, target, activity, &run, recreated: false)
                }
                return .final(
                    outcome(
                        item, run, status: .failed,
                        error: .init(
                            code: "NotificationNotFound",
                            message: "no message with this notificationKey was sent to this recipient", retryable: false
                        )))
            }
            let serviceUrl = previous.serviceUrl ?? target.serviceUrl
            run.conversationId = conversationId
            run.serviceUrl = serviceUrl
            let result = await attempt(
                item, &run, delivery.action == .update ? .update : .delete, serviceUrl: serviceUrl,
                conversation: conversationId, tenant: target.tenantId
            ) {
                () async throws(BotConnectorError) -> String in
                if delivery.action == .update {
                    return try await client.updateActivity(
                        serviceURL: serviceUrl, conversationId: conversationId, activityId: activityId, activity)
                }
                try await client.deleteActivity(
                    serviceURL: serviceUrl, conversationId: conversationId, activityId: activityId)
                return activityId
            }
            switch result {
            case .success(let id): return await recordSent(item, activityId: id, &run)
            case .failure(let error): return error.step
            }
        }
    }

    private func send(
        _ item: WorkItem, _ target: Target, _ activity: MessageActivity, _ run: inout Run, recreated: Bool
    ) async -> Step {
        let client = self.client
        var target = target
        let result = await attempt(
            item, &run, .send, serviceUrl: target.serviceUrl, conversation: target.conversationId,
            tenant: target.tenantId, blockedKey: target.referenceKey
        ) {
            () async throws(BotConnectorError) -> String in
            try await client.sendActivity(
                serviceURL: target.serviceUrl, conversationId: target.conversationId, activity)
        }
        switch result {
        case .success(let id):
            return await recordSent(item, activityId: id, &run)
        case .failure(let error):
            let step = error.step
            // Teams forgot a stored conversation: forget the reference and create it again, once.
            guard case .final(let outcome) = step,
                outcome.error?.code == BotConnectorError.Code.conversationNotFound.teamsName,
                let key = target.referenceKey, let parameters = target.recreate, !recreated
            else { return step }
            logger.info(
                "stored conversation not found; creating it again", metadata: item.logMetadata)
            guard await untilStored(item, { try await self.store.forgetReferences(keys: [key]) }) != nil else {
                return .abandoned
            }
            switch await create(item, parameters, tenant: target.tenantId, key: key, &run) {
            case .success(let created): target = created
            case .failure(let error): return error.step
            }
            run.conversationId = target.conversationId
            run.serviceUrl = target.serviceUrl
            return await send(item, target, activity, &run, recreated: true)
        }
    }

    /// Teams accepted it: the ledger records where it went before the outcome says so.
    private func recordSent(_ item: WorkItem, activityId: String, _ run: inout Run) async -> Step {
        run.activityId = activityId.isEmpty ? nil : activityId
        run.sent = true
        // A card whose buttons answer with the card itself (Acknowledge, the opt-out's Undo) is kept for the gateway.
        var card: String?
        if item.delivery.message.keepsCard,
            case .card(let json) = item.delivery.message.body(forDelivery: item.deliveryId)
        {
            card = String(decoding: json, as: UTF8.self)
        }
        let sent = SentDelivery(
            deliveryId: item.deliveryId, activityId: run.activityId, conversationId: run.conversationId,
            serviceUrl: run.serviceUrl, attempts: run.attempts, notificationKey: item.delivery.notificationKey,
            recipient: item.delivery.recipient.identity, card: card)
        await untilStored(item, force: true) { try await self.ledger.markSent(sent) }
        return .final(outcome(item, run, status: sentStatus(item.delivery.action)))
    }

    // MARK: Attempts

    /// Calls Teams under the rate governor, retrying retryable errors with backoff. A failure is returned as the
    /// final step (failed, rejected, expired) or `abandoned`.
    ///
    /// `carriesMessage`: the request can put the message in front of the recipient (a send, update, delete, a
    /// channel thread created with its first message), so the ledger marks it `sending` for its duration. A 1:1
    /// conversation create is not: Teams returns the same chat when asked again.
    func attempt<T>(
        _ item: WorkItem, _ run: inout Run, _ kind: EngineMetrics.Operation, serviceUrl: String?, conversation: String,
        tenant: String, blockedKey: String? = nil, carriesMessage: Bool = true,
        _ operation: () async throws(BotConnectorError) -> T
    ) async -> Result<T, StepError> {
        do throws(BotConnectorError) {
            // The bearer token goes to allowed hosts only: refuse before any wait or request.
            _ = try client.resolveServiceURL(serviceUrl)
        } catch {
            let code = error.code == .serviceUrlNotAllowed ? error.teamsCode : "InvalidServiceUrl"
            return .failure(StepError(.final(rejected(item, run, code: code, message: error.message))))
        }
        let tenantKey = tenant.lowercased()  // the governor's key for the tenant
        var attempts = 0
        while true {
            guard liveness(item) == .live else { return .failure(StepError(.abandoned)) }
            if let expiresAt = item.delivery.expiresAt, expiresAt <= Date() {
                return .failure(
                    StepError(
                        .final(
                            outcome(
                                item, run, status: .expired,
                                error: .init(
                                    code: "Expired",
                                    message: "expired at \(RFC3339.format(expiresAt)) before it could be sent",
                                    retryable: false)))))
            }
            let wait = governor.withLock {
                $0.reserve(conversation: conversation, tenant: tenantKey, now: .now)
            }
            var waited = wait
            if wait > .zero {
                guard await pause(wait, item) else { return .failure(StepError(.abandoned)) }
            }
            if run.claimed, ContinuousClock.now - run.claimedAt > options.claimLease / 2 {
                // Renew the claim so a long wait cannot let another worker take it while this one sends.
                guard case .claimed = await untilStored(item, { try await self.ledger.claim(item.deliveryId) }) else {
                    return .failure(StepError(.abandoned))
                }
                run.claimedAt = .now
            }
            // Last before the request: the tenant's real send rate (see RateGovernor.confirm).
            while let more = governor.withLock({ $0.confirm(tenant: tenantKey, now: .now) }) {
                guard await pause(more, item) else { return .failure(StepError(.abandoned)) }
                waited += more
            }
            stats.metrics.rateLimiterWait.record(duration: waited)
            // The departure counts from here; the ledger write below delays arrival, so it is part of the round
            // trip the governor's jitter allowance follows.
            let departed = ContinuousClock.now
            if run.claimed, carriesMessage {
                // From here until the answer, a crash leaves Teams' state unknown: the ledger says so. Only now,
                // after every wait, so "uncertain" means one request on the wire, not a delivery waiting its turn.
                guard await untilStored(item, { try await self.ledger.markSending(item.deliveryId) }) != nil else {
                    return .failure(StepError(.abandoned))
                }
            }
            attempts += 1
            run.attempts += 1
            if run.firstAttemptAt == nil { run.firstAttemptAt = Date() }
            stats.request()
            let started = ContinuousClock.now
            do throws(BotConnectorError) {
                let result = try await operation()
                answered(kind, after: .now - started, sinceDeparture: .now - departed)
                return .success(result)
            } catch {
                answered(kind, after: .now - started, sinceDeparture: .now - departed)
                if error.code == .throttled {
                    run.throttled += 1
                    stats.throttled()
                    governor.withLock {
                        $0.throttled(tenant: tenantKey, retryAfter: error.retryAfter, now: .now)
                    }
                }
                if error.recipientBlocked, let blockedKey {
                    await untilStored(item, force: true) {
                        try await self.store.markBlocked(keys: [blockedKey], code: error.teamsCode, at: Date())
                    }
                }
                let giveUp = item.startedAt.addingTimeInterval(Double(options.giveUpAfter.components.seconds))
                guard error.isRetryable, attempts < options.maxAttempts, Date() < giveUp else {
                    return .failure(StepError(.final(failed(item, run, error))))
                }
                if run.claimed, carriesMessage, error.provesNotDelivered {
                    // Waiting to retry is not a request on the wire: a crash meanwhile must not leave it uncertain.
                    guard await untilStored(item, { try await self.ledger.markNotSending(item.deliveryId) }) != nil
                    else { return .failure(StepError(.abandoned)) }
                }
                stats.retry()
                logger.debug(
                    "retrying after a retryable Teams error",
                    metadata: item.logMetadata.merging(
                        ["code": "\(error.teamsCode)", "attempt": "\(attempts)"], uniquingKeysWith: { $1 }))
                guard await pause(backoff.delay(attempt: attempts, retryAfter: error.retryAfter), item) else {
                    return .failure(StepError(.abandoned))
                }
            }
        }
    }

    /// A Teams call returned (or failed): its latency, and the time since the governor let it go for its
    /// jitter allowance.
    private func answered(_ kind: EngineMetrics.Operation, after latency: Duration, sinceDeparture: Duration) {
        stats.metrics.sent(kind, duration: latency)
        governor.withLock { $0.observe(roundTrip: sinceDeparture, now: .now) }
    }

    /// `onUncertain` of the item's route, else `delivery.onUncertain`.
    func uncertainPolicy(_ item: WorkItem) -> UncertainDeliveryPolicy {
        uncertainPolicies[item.delivery.route] ?? options.onUncertain
    }

    /// Sleeps, waking early (false) when the delivery must stop.
    func pause(_ duration: Duration, _ item: WorkItem) async -> Bool {
        var remaining = duration
        while remaining > .zero {
            guard liveness(item) == .live, !Task.isCancelled else { return false }
            let slice = min(remaining, .milliseconds(200))
            try? await Task.sleep(for: slice)
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
    func untilStored<T>(_ ticket: RecordTicket, metadata: Logger.Metadata, _ call: () async throws -> T) async -> T? {
        await untilStored(
            metadata: metadata, force: false,
            isLive: { !self.isStale(ticket) && !self.state.withLock { $0.parking } }, call)
    }

    private func untilStored<T>(
        metadata: Logger.Metadata, force: Bool, isLive: () -> Bool, _ call: () async throws -> T
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
                        metadata: metadata.merging(["error": "\(error)"], uniquingKeysWith: { $1 }))
                }
                if !force, !isLive() { return nil }
                if force, failures > 600 { return nil }
                try? await Task.sleep(for: .milliseconds(min(1000, 50 * failures)))
            }
        }
    }

    // MARK: Outcomes

    func outcome(
        _ item: WorkItem, _ run: Run, status: DeliveryOutcome.Status, error: DeliveryOutcome.ErrorInfo? = nil
    ) -> DeliveryOutcome {
        let now = Date()
        var outcome = DeliveryOutcome(
            delivery: item.delivery, event: item.event, status: status, completedAt: now, worker: options.worker)
        outcome.deliveryId = item.deliveryId
        outcome.conversationId = run.conversationId
        outcome.activityId = run.activityId
        outcome.serviceUrl = run.serviceUrl
        outcome.attempts = run.attempts
        outcome.throttled = run.throttled
        outcome.installedApp = run.installedApp ? true : nil
        outcome.error = error
        outcome.firstAttemptAt = run.firstAttemptAt.map(RFC3339.format)
        outcome.latencyMs = max(0, Int((now.timeIntervalSince(item.startedAt) * 1000).rounded()))
        return outcome
    }

    private func rejected(_ item: WorkItem, _ run: Run, code: String, message: String) -> DeliveryOutcome {
        outcome(item, run, status: .rejected, error: .init(code: code, message: message, retryable: false))
    }

    private func failed(_ item: WorkItem, _ run: Run, _ error: BotConnectorError) -> DeliveryOutcome {
        outcome(
            item, run, status: .failed,
            error: .init(
                code: error.teamsCode, httpStatus: error.httpStatus, message: error.message,
                retryable: error.isRetryable))
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
