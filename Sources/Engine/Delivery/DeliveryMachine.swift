import BotConnector
import Foundation
import HeraldConfig
import RateLimiting
import Routing
import Store

/// One delivery, from its ledger claim to its published outcome, as a value with no I/O.
///
/// The worker (the driver) performs each ``Action`` the machine returns and reports what happened as the
/// next ``Event``; the machine decides what comes next. Every decision about a Teams error is made on
/// ``BotConnectorError/Code``. See `Sources/Engine/README.md` for the walk through one delivery.
///
/// A driver must check that the delivery is still live before performing an action whose
/// ``Action/startsWork`` is true (a claim, a wait for rate capacity), and report ``Event/stopped`` instead when
/// it is not; a store call or a wait that gave up because the delivery had to stop reports it too.
struct DeliveryMachine {
    /// What does not change while a delivery runs.
    struct Settings: Sendable {
        /// Recorded in outcomes.
        var worker: String
        /// Send attempts per request, the first included, and the waits between them.
        var retry: RetryPolicy
        /// A request still failing this long after the delivery's start fails.
        var giveUpAfter: Duration
        /// A claim older than half of this is renewed before a request.
        var claimLease: Duration
        /// A blocked recipient is tried again after this long.
        var blockedRecheckAfter: Duration
        /// What a delivery a stopped worker left uncertain becomes.
        var onUncertain: UncertainDeliveryPolicy
        /// Users who never installed the app can have it installed (`bot.proactiveInstall`).
        var canInstall: Bool
        /// The service URL of a conversation Teams created without naming one.
        var defaultServiceUrl: String
        /// People named by email or UPN, and groups, can be looked up in the tenant's directory (Microsoft Graph).
        var canReadDirectory = false
    }

    /// What the driver reports.
    enum Event: Sendable {
        /// The delivery begins.
        case start
        /// The ledger's answer to a claim (or a claim renewal).
        case claim(ClaimResult)
        /// Whether this worker took over a delivery left uncertain.
        case tookOver(Bool)
        case optedOut(Bool)
        case deferralStored
        /// The delivery waits in a digest.
        case digestJoined(DigestJoined)
        /// The delivery cannot be encoded for the store.
        case deferralUnstorable
        /// A stored reference lookup's answer.
        case reference(ConversationReference?)
        case referenceStored
        case referenceForgotten
        /// The last message sent under the delivery's notification key to its recipient.
        case previous(LedgerEntry?)
        /// The service URL check: nil when the URL is allowed.
        case serviceUrlChecked(BotConnectorError?)
        /// The rate governor has room for the request now.
        case capacityReady
        case markedSending
        case markedNotSending
        case blockedMarked
        /// Teams (or Graph) answered the request.
        case answered(Answer)
        /// The request failed.
        case failed(BotConnectorError)
        case installed(chatId: String, installed: Bool)
        /// Who the person named by email or UPN is; nil when the directory has nobody by that name.
        case person(GraphClient.DirectoryUser?)
        /// A page of a group's users; nil when the tenant has no such group.
        case groupPage(GraphClient.GroupMembersPage?)
        /// The team's channels as last read (nil: not known, to be read from Teams).
        case channels([TeamChannel]?)
        case sentRecorded
        /// A ``Action/wait(_:)`` or ``Action/retry(after:error:attempt:)`` ended.
        case waited
        case published
        case markedPublished
        case released
        /// The members of a fan-out finished; false when some were abandoned.
        case membersDone(allCompleted: Bool)
        /// The delivery must stop (revoke, shutdown, its partition is gone) before or instead of the last action.
        case stopped
    }

    /// What Teams answered.
    enum Answer: Sendable {
        case activityId(String)
        case conversation(ConversationResource)
        case members(MembersPage)
        case channels([TeamChannel])
    }

    /// A request to the Bot Connector.
    enum Request: Sendable, Equatable {
        var readsMembers: Bool {
            if case .members = self { return true }
            return false
        }

        /// A 1:1 conversation with a user.
        case createConversation(ConversationParameters.Target, tenantId: String)
        /// A new channel thread, created with the delivery's message as its first.
        case createThread(channelId: String, tenantId: String, serviceUrl: String?)
        case send(conversationId: String, serviceUrl: String?)
        case update(conversationId: String, serviceUrl: String?, activityId: String)
        case delete(conversationId: String, serviceUrl: String?, activityId: String)
        /// One page of a team's roster: the first (no token) or the one `continuationToken` names.
        case members(teamId: String, continuationToken: String?)
        /// The team's channels, to find one by name.
        case channels(teamId: String)

        /// The same request through the configured default (global) service URL; nil when it already goes there.
        var onDefaultServiceUrl: Request? {
            switch self {
            case .createThread(let channelId, let tenantId, .some):
                return .createThread(channelId: channelId, tenantId: tenantId, serviceUrl: nil)
            case .send(let conversationId, .some): return .send(conversationId: conversationId, serviceUrl: nil)
            case .update(let conversationId, .some, let activityId):
                return .update(conversationId: conversationId, serviceUrl: nil, activityId: activityId)
            case .delete(let conversationId, .some, let activityId):
                return .delete(conversationId: conversationId, serviceUrl: nil, activityId: activityId)
            default: return nil
            }
        }
    }

    /// What the driver does next.
    indirect enum Action: Sendable {
        /// Claim the delivery in the ledger (also to renew a claim): report ``Event/claim(_:)``.
        case claim
        /// Take over a delivery another worker left uncertain: report ``Event/tookOver(_:)``.
        case takeOverUncertain
        /// Sleep, waking early when the delivery must stop: report ``Event/waited`` or ``Event/stopped``.
        case wait(Duration)
        /// Wait before trying request attempt `attempt` (which failed with `error`) again: Teams' `Retry-After`
        /// or a backoff. Report ``Event/waited`` or ``Event/stopped``.
        case retry(after: Duration, error: BotConnectorError, attempt: Int)
        case checkOptOut(OptOutCheck)
        /// Store the delivery to be delivered at `dueAt`.
        case storeDeferral(dueAt: Date)
        /// Add the delivery to its route's digest for its recipient: report ``Event/digestJoined(_:)``.
        case joinDigest
        case lookUpReference(ReferenceQuery)
        case storeReference(ConversationReference)
        case forgetReference(key: String)
        case lookUpPrevious(notificationKey: String, recipient: String)
        /// Check that the bearer token may go to `serviceUrl` (nil: the default).
        case checkServiceUrl(String?)
        /// Wait until the rate governor lets a request to `conversation` of `tenant` go (a roster page when
        /// `readsMembers`: Teams counts member reads in windows of their own).
        case waitForCapacity(conversation: String, tenant: String, readsMembers: Bool)
        /// Mark the delivery `sending` in the ledger: a request that can reach the recipient is about to go.
        case markSending
        /// Mark it `claimed` again: the request was refused, so a crash while waiting cannot leave it uncertain.
        case markNotSending
        /// Make the request to `tenant`'s Teams (lower-cased: the rate governor's key, which a 429 slows down).
        case request(Request, tenant: String)
        /// The recipient blocked the bot: mark the stored reference `key`.
        case markBlocked(key: String, code: String)
        /// Install the app for the user through Graph and find its chat.
        case install(userId: String, tenantId: String)
        /// Look the person up in the tenant's directory (the directory cache, else Graph): report
        /// ``Event/person(_:)`` or ``Event/failed(_:)``.
        case resolvePerson(Recipient.PersonName, tenantId: String)
        /// Read one page of the group's users (the first when `nextLink` is nil): report ``Event/groupPage(_:)`` or
        /// ``Event/failed(_:)``.
        case readGroupPage(groupId: String, tenantId: String, nextLink: String?)
        /// The team's channels if this worker read them recently: report ``Event/channels(_:)``.
        case lookUpChannels(teamId: String)
        /// Record in the ledger where the message went, before any outcome says so.
        case recordSent(SentDelivery)
        /// Deliver to each member as a delivery of its own: report ``Event/membersDone(allCompleted:)``.
        case fanOut([TeamsMember], tenantId: String?)
        /// Deliver to each person (Entra object ids of the tenant) as a 1:1 delivery whose id is the person's
        /// resolved identity, so one person named twice in an event's route gets one message: report
        /// ``Event/membersDone(allCompleted:)``.
        case fanOutPeople([String], tenantId: String)
        /// Publish the outcome: report ``Event/published`` or ``Event/stopped``.
        case publish(DeliveryOutcome)
        /// Mark the ledger entry's outcome published (for the event's record).
        case markPublished
        /// Give the claim back.
        case release
        /// The delivery is over.
        case finish(Ending)

        /// Whether the driver must check the delivery is live before performing it.
        var startsWork: Bool {
            switch self {
            case .claim, .waitForCapacity: true
            default: false
            }
        }
    }

    /// How a delivery ended.
    enum Ending: Sendable, Equatable {
        /// Its outcome is published (or it needed none): its record or deferral may be completed.
        case completed
        /// Its record was read again and its outcome is already on the topic: nothing was published.
        case replayed
        /// Stopped (revoke, shutdown): no outcome; the record is not committed and is read again.
        case abandoned
    }

    /// What one delivery has done so far: the outcome's fields.
    struct Run: Sendable {
        var claimed = false
        var claimedAt: Date?
        var attempts = 0
        var throttled = 0
        var firstAttemptAt: Date?
        var conversationId: String?
        var serviceUrl: String?
        var activityId: String?
        var sent = false
        /// The app was installed for the recipient through Graph to reach them.
        var installedApp = false
        /// A team fan-out's roster so far, and the continuation tokens already followed (a repeated one would
        /// page forever).
        var roster: [TeamsMember] = []
        var rosterTokens: Set<String> = []
        /// A group's next links already followed.
        var groupLinks: Set<String> = []
    }

    /// Where a delivery goes.
    struct Target: Sendable, Equatable {
        var conversationId: String
        var serviceUrl: String?
        var tenantId: String
        /// The stored reference used, if any (marked blocked or forgotten on the matching Teams errors).
        var referenceKey: String?
        /// How to create the conversation again after Teams forgot it (404 on a stored reference).
        var recreate: ConversationParameters.Target?
    }

    /// What an outcome being published is, and so what follows it.
    private enum Conclusion {
        /// Final: the ledger entry is marked published afterwards.
        case final
        /// Deferred: the claim is given back afterwards.
        case deferred
        /// An upstream duplicate, or a fan-out whose roster could not be read: nothing follows.
        case noted
    }

    /// What a conversation being created is for.
    private enum AfterCreate {
        /// The delivery's first resolution: perform its action.
        case perform
        /// Teams forgot the stored conversation: send once more, to the new one.
        case resend
    }

    /// What a request is for.
    private enum Purpose {
        case create(ConversationParameters.Target, tenantId: String, key: String, then: AfterCreate)
        case send(Target, recreated: Bool)
        case thread
        case change
        case roster(tenantId: String?)
        case channels(name: String)
    }

    /// One request's attempts.
    private struct Attempt {
        enum Stage {
            case checkingServiceUrl
            case waitingForCapacity
            case renewingClaim
            case markingSending
            case requesting
            case markingBlocked(BotConnectorError)
            case markingNotSending(BotConnectorError)
            case backingOff
        }

        var request: Request
        var purpose: Purpose
        var serviceUrl: String?
        var conversation: String
        var tenantId: String
        var blockedKey: String?
        /// The request can put the message in front of the recipient, so the ledger marks it `sending` for
        /// its duration. A 1:1 conversation create is not: Teams returns the same chat when asked again.
        var carriesMessage: Bool
        var count = 0
        var stage = Stage.checkingServiceUrl
    }

    private enum State {
        case idle
        case claiming
        case takingOver
        case waitingForClaim
        case checkingOptOut(then: Target?)
        case deferring
        case lookingUpUser(ConversationParameters.Target, tenantId: String)
        case lookingUpReference
        case lookingUpPrevious(Target)
        case attempting(Attempt)
        case storingReference(Target, then: AfterCreate)
        case forgetting(Target, ConversationParameters.Target, key: String)
        case installing(aad: String, tenantId: String, key: String, then: AfterCreate)
        case recording
        case fanningOut
        case resolvingPerson(Recipient.PersonName, tenantId: String)
        case readingGroup(groupId: String, tenantId: String)
        /// A group page's people are being delivered to; the next page follows.
        case fanningOutGroup(groupId: String, tenantId: String, nextLink: String?)
        case lookingUpChannels(teamId: String, name: String, tenantId: String)
        case joiningDigest
        case publishing(Conclusion)
        case markingPublished
        case releasing(Ending)
        case finished
    }

    let item: WorkItem
    let settings: Settings
    private(set) var run = Run()
    private var state = State.idle
    /// The time of the event being handled.
    private var now = Date(timeIntervalSince1970: 0)
    /// What is sent: the route's `locale` (or the default) until a stored reference names the recipient's own.
    private(set) var message: RenderedMessage

    init(item: WorkItem, settings: Settings) {
        self.item = item
        self.settings = settings
        self.message = item.delivery.message(forRecipientLocale: nil)
    }

    var delivery: Delivery { item.delivery }

    /// The store reads this delivery makes right after its claim when nothing defers it: its recipient's
    /// opt-out check and conversation lookup. The driver makes them together with the claim, in one store round
    /// trip; the machine still asks for each, and a read it asks for differently goes to the store on its own.
    var readsAfterClaim: (optOut: OptOutCheck?, reference: ReferenceQuery?) {
        guard delivery.action == .send, delivery.digest == nil, item.digestSend == nil, delivery.deliverAt == nil,
            delivery.quietHours == nil
        else { return (nil, nil) }
        switch delivery.recipient {
        case .user(let userId, let aad, let tenant?) where !tenant.isEmpty:
            let reference: ReferenceQuery =
                aad.map { .aadObject(tenantId: tenant, aadObjectId: $0) }
                ?? .user(tenantId: tenant, userId: userId ?? "")
            return (OptOutCheck(tenantId: tenant, userId: userId, aadObjectId: aad), reference)
        case .reference(let key):
            return (nil, .key(key))
        default:
            return (nil, nil)
        }
    }

    // MARK: Transitions

    mutating func next(after event: Event, now: Date) -> Action {
        self.now = now
        if case .stopped = event { return stop() }
        switch (state, event) {
        case (.idle, .start):
            switch delivery.recipient {
            case .teamMembers(let teamId, let tenantId):
                return rosterPage(teamId: teamId, tenantId: tenantId, continuationToken: nil)
            case .group(let groupId, let tenantId):
                if let refusal = cannotReadDirectory(tenantId) { return refusal }
                state = .readingGroup(groupId: groupId, tenantId: tenantId ?? "")
                return .readGroupPage(groupId: groupId, tenantId: tenantId ?? "", nextLink: nil)
            case .person(let name, let tenantId):
                if let refusal = cannotReadDirectory(tenantId) { return refusal }
                state = .resolvingPerson(name, tenantId: tenantId ?? "")
                return .resolvePerson(name, tenantId: tenantId ?? "")
            default:
                return claim()
            }
        case (.claiming, .claim(let answer)):
            return claimed(answer)
        case (.takingOver, .tookOver(let taken)):
            guard taken else { return claim() }  // another worker took it first: ask again
            run.claimed = true
            run.claimedAt = now
            return afterClaim()
        case (.waitingForClaim, .waited):
            return claim()
        case (.checkingOptOut(let target), .optedOut(let optedOut)):
            if optedOut {
                return conclude(
                    .suppressed, .init(code: "OptedOut", message: "the recipient opted out", retryable: false))
            }
            if let target { return perform(target) }
            return deferOrResolve()
        case (.joiningDigest, .digestJoined):
            // Its outcome comes with the digest's send; the record may be committed now that the store has it.
            return release(then: .completed)
        case (.deferring, .deferralStored):
            return publish(outcome(status: .deferred), as: .deferred)
        case (.joiningDigest, .deferralUnstorable):
            return reject("Unstorable", "the delivery cannot be stored in its digest")
        case (.deferring, .deferralUnstorable):
            return reject("Unstorable", "the delivery cannot be stored for later")
        case (.lookingUpUser(let parameters, let tenantId), .reference(let found)):
            guard let reference = found else {
                return create(parameters, tenantId: tenantId, key: delivery.recipient.identity, then: .perform)
            }
            if let blocked = blocked(reference) { return blocked }
            localize(for: reference)
            return perform(
                Target(
                    conversationId: reference.conversationId, serviceUrl: reference.serviceUrl, tenantId: tenantId,
                    referenceKey: reference.key, recreate: parameters))
        case (.lookingUpReference, .reference(let found)):
            return referenceFound(found)
        case (.lookingUpPrevious(let target), .previous(let previous)):
            return change(target, previous: previous)
        case (.attempting(var attempt), _):
            return attempting(&attempt, event)
        case (.storingReference(let target, let then), .referenceStored):
            return created(target, then: then)
        case (.forgetting(let target, let parameters, let key), .referenceForgotten):
            return create(parameters, tenantId: target.tenantId, key: key, then: .resend)
        case (.installing(let aad, let tenantId, let key, let then), .installed(let chatId, let installed)):
            run.installedApp = run.installedApp || installed
            let reference = ConversationReference(
                key: key, conversationId: chatId, serviceUrl: settings.defaultServiceUrl, tenantId: tenantId,
                userId: nil, aadObjectId: aad, scope: .personal)
            let target = Target(
                conversationId: chatId, serviceUrl: settings.defaultServiceUrl, tenantId: tenantId, referenceKey: key,
                recreate: .userAADObjectId(aad))
            state = .storingReference(target, then: then)
            return .storeReference(reference)
        case (.installing, .failed(let error)):
            return conclude(failed: error)
        case (.recording, .sentRecorded):
            return conclude(sentStatus)
        case (.fanningOut, .membersDone(let all)):
            return finish(all ? .completed : .abandoned)
        case (.resolvingPerson(let name, let tenantId), .person(let user)):
            return personResolved(user, name, tenantId: tenantId)
        case (.resolvingPerson, .failed(let error)), (.readingGroup, .failed(let error)):
            return conclude(failed: error)
        case (.readingGroup(let groupId, let tenantId), .groupPage(let page)):
            return groupPageRead(page, groupId: groupId, tenantId: tenantId)
        case (.fanningOutGroup(let groupId, let tenantId, let nextLink), .membersDone(let all)):
            guard all else { return finish(.abandoned) }
            guard let nextLink else { return finish(.completed) }
            state = .readingGroup(groupId: groupId, tenantId: tenantId)
            return .readGroupPage(groupId: groupId, tenantId: tenantId, nextLink: nextLink)
        case (.lookingUpChannels(let teamId, let name, let tenantId), .channels(let known)):
            // Not read lately, or read before the channel was created: Teams is asked before it counts as unknown.
            guard let known, let channel = Self.channel(named: name, in: known) else {
                return readChannels(teamId: teamId, name: name, tenantId: tenantId)
            }
            return perform(Target(conversationId: channel.id, serviceUrl: nil, tenantId: tenantId))
        case (.publishing(let conclusion), .published):
            switch conclusion {
            case .final:
                state = .markingPublished
                return .markPublished
            case .deferred:
                return run.claimed ? release(then: .completed) : finish(.completed)
            case .noted:
                return finish(.completed)
            }
        case (.markingPublished, .markedPublished):
            return finish(.completed)
        case (.releasing(let ending), .released):
            return finish(ending)
        default:
            preconditionFailure("delivery state machine: \(event) is not expected in \(state)")
        }
    }

    // MARK: The ledger

    private mutating func claim() -> Action {
        state = .claiming
        return .claim
    }

    private mutating func claimed(_ answer: ClaimResult) -> Action {
        switch answer {
        case .claimed:
            run.claimed = true
            run.claimedAt = now
            return afterClaim()
        case .alreadySent(let entry):
            // Sent by a worker that stopped before publishing: publish what it did.
            run.conversationId = entry.conversationId
            run.activityId = entry.activityId
            run.serviceUrl = entry.serviceUrl
            run.attempts = entry.attempts
            return conclude(sentStatus)
        case .outcomePublished(let entry):
            if entry.input == item.event.input.coordinates { return finish(.replayed) }
            var duplicate = outcome(
                status: .suppressed,
                error: .init(
                    code: "Duplicate", message: "this event was delivered to this recipient before", retryable: false))
            duplicate.duplicateOf = entry.input.flatMap(InputPosition.init(coordinates:))
            return publish(duplicate, as: .noted)
        case .uncertain:
            // The worker that owned it died mid-request: Teams may have the message.
            if settings.onUncertain == .resend {
                // At least once: take it over and send it again.
                state = .takingOver
                return .takeOverUncertain
            }
            // Sending again could duplicate it, so say so instead.
            return conclude(
                .failed,
                .init(
                    code: "DeliveryUncertain",
                    message:
                        "the worker sending this stopped during the Teams request; it was not sent again to avoid a duplicate",
                    retryable: true))
        case .claimedByOther(_, let until):
            // Another worker holds it (it is finishing after a rebalance, or was killed): wait for it.
            state = .waitingForClaim
            let left = Duration.milliseconds(Int64((until.timeIntervalSince(now) * 1000).rounded()))
            return .wait(max(.milliseconds(100), min(.seconds(1), left)))
        }
    }

    private mutating func afterClaim() -> Action {
        if let expired = expired(while: "") { return expired }
        if let problem = item.digestSend?.problem { return conclude(.failed, problem) }
        // Opt-outs of users known before resolution.
        if case .user(let userId, let aad, let tenant?) = delivery.recipient, !tenant.isEmpty {
            state = .checkingOptOut(then: nil)
            return .checkOptOut(OptOutCheck(tenantId: tenant, userId: userId, aadObjectId: aad))
        }
        return deferOrResolve()
    }

    /// Deferral: later delivery and quiet hours wait durably in the store. Else the conversation.
    private mutating func deferOrResolve() -> Action {
        // A digest route's delivery waits in its digest; quiet hours move the digest's send, not the join.
        if delivery.digest != nil, item.digestSend == nil, delivery.action == .send {
            state = .joiningDigest
            return .joinDigest
        }
        if !item.wasDeferred, let dueAt = Self.dueDate(delivery, now: now) {
            state = .deferring
            return .storeDeferral(dueAt: dueAt)
        }
        return resolve()
    }

    /// When a delivery that is not due yet becomes due: `deliverAt`, or the end of the recipient's quiet hours.
    static func dueDate(_ delivery: Delivery, now: Date) -> Date? {
        if let deliverAt = delivery.deliverAt, deliverAt > now.addingTimeInterval(0.5) { return deliverAt }
        if let quiet = delivery.quietHours { return quiet.end(after: now) }
        return nil
    }

    // MARK: Resolving the conversation

    private mutating func resolve() -> Action {
        switch delivery.recipient {
        case .user(let userId, let aad, let tenant):
            guard let tenant, !tenant.isEmpty else {
                return reject("MissingTenantId", "a user recipient needs a tenantId")
            }
            let parameters: ConversationParameters.Target = aad.map { .userAADObjectId($0) } ?? .user(id: userId ?? "")
            state = .lookingUpUser(parameters, tenantId: tenant)
            if let aad { return .lookUpReference(.aadObject(tenantId: tenant, aadObjectId: aad)) }
            return .lookUpReference(.user(tenantId: tenant, userId: userId ?? ""))
        case .conversation(let id, let serviceUrl, let tenant):
            return perform(Target(conversationId: id, serviceUrl: serviceUrl, tenantId: tenant ?? ""))
        case .reference(let key):
            state = .lookingUpReference
            return .lookUpReference(.key(key))
        case .channel(_, let channelId, let tenant, let threadId):
            guard let tenant, !tenant.isEmpty else {
                return reject("MissingTenantId", "a channel recipient needs a tenantId")
            }
            // A new thread is created together with its first message (see perform); a reply goes to the thread.
            let conversation = threadId.map { "\(channelId);messageid=\($0)" } ?? channelId
            return perform(Target(conversationId: conversation, serviceUrl: nil, tenantId: tenant))
        case .namedChannel(let teamId, let name, let tenant):
            guard let tenant, !tenant.isEmpty else {
                return reject("MissingTenantId", "a channel recipient needs a tenantId")
            }
            state = .lookingUpChannels(teamId: teamId, name: name, tenantId: tenant)
            return .lookUpChannels(teamId: teamId)
        case .teamMembers, .person, .group:
            return reject("BadRecipient", "a team, group or person named by address is not resolved yet")
        }
    }

    // MARK: The directory

    /// Why a person or group cannot be looked up (no Graph client, no tenant), as the rejection; nil when it can.
    private mutating func cannotReadDirectory(_ tenantId: String?) -> Action? {
        guard settings.canReadDirectory else {
            return reject(
                "DirectoryUnavailable", "this worker has no Microsoft Graph client to read the directory with")
        }
        guard let tenantId, !tenantId.isEmpty else {
            return reject("MissingTenantId", "a directory recipient needs a tenantId")
        }
        return nil
    }

    /// One 1:1 delivery to the person, under the identity they resolved to; a name nobody has, or a disabled
    /// account, fails here.
    private mutating func personResolved(
        _ user: GraphClient.DirectoryUser?, _ name: Recipient.PersonName, tenantId: String
    ) -> Action {
        let described: String
        switch name {
        case .email(let address): described = "the email address \(address)"
        case .upn(let upn): described = "the user principal name \(upn)"
        }
        guard let user else {
            return conclude(
                .failed,
                .init(
                    code: "RecipientNotFound",
                    message: "nobody in the directory of tenant \(tenantId) has \(described)", retryable: false))
        }
        guard user.accountEnabled else {
            return conclude(
                .failed,
                .init(
                    code: "RecipientDisabled",
                    message: "the account with \(described) (\(user.id)) is disabled in tenant \(tenantId)",
                    retryable: false))
        }
        state = .fanningOut
        return .fanOutPeople([user.id], tenantId: tenantId)
    }

    /// The page's enabled users are delivered to before the next page is read, so a group of any size costs one
    /// page of memory; a crash mid-group reads it again from the first page, and the ledger answers for everyone
    /// already reached.
    private mutating func groupPageRead(
        _ page: GraphClient.GroupMembersPage?, groupId: String, tenantId: String
    ) -> Action {
        guard let page else {
            return conclude(
                .failed,
                .init(
                    code: "GroupNotFound", message: "tenant \(tenantId) has no group \(groupId)", retryable: false))
        }
        if let next = page.nextLink, !run.groupLinks.insert(next).inserted {
            return conclude(
                failed: BotConnectorError(code: .invalidResponse, message: "Graph repeated a group page's next link"))
        }
        state = .fanningOutGroup(groupId: groupId, tenantId: tenantId, nextLink: page.nextLink)
        return .fanOutPeople(page.users.filter(\.accountEnabled).map(\.id), tenantId: tenantId)
    }

    private mutating func readChannels(teamId: String, name: String, tenantId: String) -> Action {
        attempt(
            .channels(teamId: teamId), .channels(name: name), serviceUrl: nil, conversation: teamId,
            tenantId: tenantId, carriesMessage: false)
    }

    /// Teams compares channel names without regard to case.
    static func channel(named name: String, in channels: [TeamChannel]) -> TeamChannel? {
        channels.first { $0.name?.caseInsensitiveCompare(name) == .orderedSame }
    }

    private mutating func referenceFound(_ found: ConversationReference?) -> Action {
        guard let reference = found else {
            return conclude(
                .failed,
                .init(
                    code: "ReferenceNotFound", message: "no stored conversation reference has this key",
                    retryable: false))
        }
        if let blocked = blocked(reference) { return blocked }
        localize(for: reference)
        let recreate: ConversationParameters.Target? =
            reference.scope != .personal
            ? nil : reference.aadObjectId.map { .userAADObjectId($0) } ?? reference.userId.map { .user(id: $0) }
        let target = Target(
            conversationId: reference.conversationId, serviceUrl: reference.serviceUrl, tenantId: reference.tenantId,
            referenceKey: reference.key, recreate: recreate)
        if reference.scope == .personal, !reference.tenantId.isEmpty {
            state = .checkingOptOut(then: target)
            return .checkOptOut(
                OptOutCheck(tenantId: reference.tenantId, userId: reference.userId, aadObjectId: reference.aadObjectId))
        }
        return perform(target)
    }

    /// The recipient's own locale, when Teams told it, picks the message's language.
    private mutating func localize(for reference: ConversationReference) {
        guard reference.locale != nil, !delivery.localized.isEmpty else { return }
        message = delivery.message(forRecipientLocale: reference.locale)
    }

    /// Suppressed when the reference was marked blocked less than `blockedRecheckAfter` ago.
    private mutating func blocked(_ reference: ConversationReference) -> Action? {
        guard let blockedAt = reference.blockedAt,
            now.timeIntervalSince(blockedAt) < Double(settings.blockedRecheckAfter.components.seconds)
        else { return nil }
        return conclude(
            .suppressed,
            .init(
                code: "RecipientBlocked",
                message: "the recipient blocked or removed the bot (\(reference.blockCode ?? "blocked"))",
                retryable: false))
    }

    /// Creates a 1:1 conversation, to be stored as the reference `key`.
    private mutating func create(
        _ parameters: ConversationParameters.Target, tenantId: String, key: String, then: AfterCreate
    ) -> Action {
        attempt(
            .createConversation(parameters, tenantId: tenantId),
            .create(parameters, tenantId: tenantId, key: key, then: then), serviceUrl: nil,
            conversation: delivery.recipient.identity, tenantId: tenantId, carriesMessage: false)
    }

    private mutating func conversationCreated(
        _ resource: ConversationResource, _ parameters: ConversationParameters.Target, tenantId: String, key: String,
        then: AfterCreate
    ) -> Action {
        let serviceUrl = resource.serviceUrl ?? settings.defaultServiceUrl
        var userId: String?
        var aad: String?
        switch parameters {
        case .user(let id): userId = id
        case .userAADObjectId(let id): aad = id
        case .channel: break
        }
        let reference = ConversationReference(
            key: key, conversationId: resource.id, serviceUrl: serviceUrl, tenantId: tenantId, userId: userId,
            aadObjectId: aad, scope: .personal)
        state = .storingReference(
            Target(
                conversationId: resource.id, serviceUrl: serviceUrl, tenantId: tenantId, referenceKey: key,
                recreate: parameters),
            then: then)
        return .storeReference(reference)
    }

    private mutating func created(_ target: Target, then: AfterCreate) -> Action {
        switch then {
        case .perform: return perform(target)
        case .resend:
            run.conversationId = target.conversationId
            run.serviceUrl = target.serviceUrl
            return send(target, recreated: true)
        }
    }

    // MARK: Sending

    private mutating func perform(_ target: Target) -> Action {
        run.conversationId = target.conversationId
        run.serviceUrl = target.serviceUrl
        switch delivery.action {
        case .send:
            if delivery.recipient.startsThread {
                let channelId = target.conversationId
                return attempt(
                    .createThread(channelId: channelId, tenantId: target.tenantId, serviceUrl: target.serviceUrl),
                    .thread, serviceUrl: target.serviceUrl, conversation: channelId, tenantId: target.tenantId,
                    carriesMessage: true)
            }
            return send(target, recreated: false)
        case .update, .delete:
            guard let key = delivery.notificationKey else {
                return reject("MissingNotificationKey", "update and delete need a notificationKey")
            }
            state = .lookingUpPrevious(target)
            return .lookUpPrevious(notificationKey: key, recipient: delivery.recipient.identity)
        }
    }

    private mutating func send(_ target: Target, recreated: Bool) -> Action {
        attempt(
            .send(conversationId: target.conversationId, serviceUrl: target.serviceUrl),
            .send(target, recreated: recreated), serviceUrl: target.serviceUrl, conversation: target.conversationId,
            tenantId: target.tenantId, blockedKey: target.referenceKey, carriesMessage: true)
    }

    private mutating func change(_ target: Target, previous: LedgerEntry?) -> Action {
        guard let previous, let activityId = previous.activityId, let conversationId = previous.conversationId else {
            // Nothing to update (the first message was never sent): send it instead.
            if delivery.action == .update { return send(target, recreated: false) }
            return conclude(
                .failed,
                .init(
                    code: "NotificationNotFound",
                    message: "no message with this notificationKey was sent to this recipient", retryable: false))
        }
        let serviceUrl = previous.serviceUrl ?? target.serviceUrl
        run.conversationId = conversationId
        run.serviceUrl = serviceUrl
        let request: Request =
            delivery.action == .update
            ? .update(conversationId: conversationId, serviceUrl: serviceUrl, activityId: activityId)
            : .delete(conversationId: conversationId, serviceUrl: serviceUrl, activityId: activityId)
        return attempt(
            request, .change, serviceUrl: serviceUrl, conversation: conversationId, tenantId: target.tenantId,
            carriesMessage: true)
    }

    /// Teams accepted it: the ledger records where it went before the outcome says so.
    private mutating func recordSent(activityId: String) -> Action {
        run.activityId = activityId.isEmpty ? nil : activityId
        run.sent = true
        // A card whose buttons answer with the card itself (Acknowledge, the opt-out's Undo) is kept for the gateway.
        var card: String?
        if message.keepsCard, case .card(let json) = message.body(forDelivery: item.deliveryId) {
            card = String(decoding: json, as: UTF8.self)
        }
        state = .recording
        return .recordSent(
            SentDelivery(
                deliveryId: item.deliveryId, activityId: run.activityId, conversationId: run.conversationId,
                serviceUrl: run.serviceUrl, attempts: run.attempts, notificationKey: delivery.notificationKey,
                recipient: delivery.recipient.identity, card: card))
    }

    private var sentStatus: DeliveryOutcome.Status {
        switch delivery.action {
        case .send: .delivered
        case .update: .updated
        case .delete: .deleted
        }
    }

    // MARK: Attempts

    /// Starts a request's attempts: the service URL is checked before any wait or request.
    private mutating func attempt(
        _ request: Request, _ purpose: Purpose, serviceUrl: String?, conversation: String, tenantId: String,
        blockedKey: String? = nil, carriesMessage: Bool
    ) -> Action {
        state = .attempting(
            Attempt(
                request: request, purpose: purpose, serviceUrl: serviceUrl, conversation: conversation,
                tenantId: tenantId, blockedKey: blockedKey, carriesMessage: carriesMessage))
        return .checkServiceUrl(serviceUrl)
    }

    private mutating func rosterPage(teamId: String, tenantId: String?, continuationToken: String?) -> Action {
        attempt(
            .members(teamId: teamId, continuationToken: continuationToken), .roster(tenantId: tenantId),
            serviceUrl: nil, conversation: teamId, tenantId: tenantId ?? "", carriesMessage: false)
    }

    private mutating func attempting(_ attempt: inout Attempt, _ event: Event) -> Action {
        switch (attempt.stage, event) {
        case (.checkingServiceUrl, .serviceUrlChecked(let refusal)):
            if let refusal {
                // The bearer token goes to allowed hosts only.
                let code = refusal.code == .serviceUrlNotAllowed ? refusal.teamsCode : "InvalidServiceUrl"
                return reject(code, refusal.message)
            }
            return tryAgain(&attempt)
        case (.waitingForCapacity, .capacityReady):
            if run.claimed, let claimedAt = run.claimedAt,
                now.timeIntervalSince(claimedAt) > seconds(settings.claimLease) / 2
            {
                // Renew the claim so a long wait cannot let another worker take it while this one sends.
                return advance(&attempt, to: .renewingClaim, .claim)
            }
            return markSendingOrRequest(&attempt)
        case (.renewingClaim, .claim(let answer)):
            guard case .claimed = answer else { return stop() }
            run.claimedAt = now
            return markSendingOrRequest(&attempt)
        case (.markingSending, .markedSending):
            return request(&attempt)
        case (.requesting, .answered(let answer)):
            return succeeded(attempt, answer)
        case (.requesting, .failed(let error)):
            if error.code == .throttled { run.throttled += 1 }
            if error.recipientBlocked, let key = attempt.blockedKey {
                return advance(&attempt, to: .markingBlocked(error), .markBlocked(key: key, code: error.teamsCode))
            }
            return retryOrGiveUp(&attempt, error)
        case (.markingBlocked(let error), .blockedMarked):
            return retryOrGiveUp(&attempt, error)
        case (.markingNotSending(let error), .markedNotSending):
            return backOff(&attempt, error)
        case (.backingOff, .waited):
            return tryAgain(&attempt)
        default:
            preconditionFailure("delivery state machine: \(event) is not expected while \(attempt.stage)")
        }
    }

    private mutating func advance(_ attempt: inout Attempt, to stage: Attempt.Stage, _ action: Action) -> Action {
        attempt.stage = stage
        state = .attempting(attempt)
        return action
    }

    /// The next attempt: unless the delivery expired meanwhile, wait for rate capacity.
    private mutating func tryAgain(_ attempt: inout Attempt) -> Action {
        if let expired = expired(while: " before it could be sent") { return expired }
        return advance(
            &attempt, to: .waitingForCapacity,
            .waitForCapacity(
                conversation: attempt.conversation, tenant: attempt.tenantId.lowercased(),
                readsMembers: attempt.request.readsMembers))
    }

    private mutating func markSendingOrRequest(_ attempt: inout Attempt) -> Action {
        if run.claimed, attempt.carriesMessage {
            // From here until the answer, a crash leaves Teams' state unknown: the ledger says so. Only now,
            // after every wait, so "uncertain" means one request on the wire, not a delivery waiting its turn.
            return advance(&attempt, to: .markingSending, .markSending)
        }
        return request(&attempt)
    }

    private mutating func request(_ attempt: inout Attempt) -> Action {
        attempt.count += 1
        run.attempts += 1
        if run.firstAttemptAt == nil { run.firstAttemptAt = now }
        return advance(&attempt, to: .requesting, .request(attempt.request, tenant: attempt.tenantId.lowercased()))
    }

    private mutating func retryOrGiveUp(_ attempt: inout Attempt, _ error: BotConnectorError) -> Action {
        let giveUp = item.startedAt.addingTimeInterval(seconds(settings.giveUpAfter))
        guard error.isRetryable, settings.retry.allowsRetry(afterFailures: attempt.count), now < giveUp else {
            return gaveUp(attempt, error)
        }
        if run.claimed, attempt.carriesMessage, error.provesNotDelivered {
            // Waiting to retry is not a request on the wire: a crash meanwhile must not leave it uncertain.
            return advance(&attempt, to: .markingNotSending(error), .markNotSending)
        }
        return backOff(&attempt, error)
    }

    private mutating func backOff(_ attempt: inout Attempt, _ error: BotConnectorError) -> Action {
        advance(
            &attempt, to: .backingOff,
            .retry(
                after: settings.retry.delay(afterFailures: attempt.count, retryAfter: error.retryAfter), error: error,
                attempt: attempt.count))
    }

    private mutating func succeeded(_ attempt: Attempt, _ answer: Answer) -> Action {
        switch (attempt.purpose, answer) {
        case (.create(let parameters, let tenantId, let key, let then), .conversation(let resource)):
            return conversationCreated(resource, parameters, tenantId: tenantId, key: key, then: then)
        case (.thread, .conversation(let resource)):
            run.conversationId = resource.id
            run.serviceUrl = resource.serviceUrl ?? settings.defaultServiceUrl
            return recordSent(activityId: resource.activityId ?? "")
        case (.send, .activityId(let id)), (.change, .activityId(let id)):
            return recordSent(activityId: id)
        case (.roster(let tenantId), .members(let page)):
            run.roster.append(contentsOf: page.members)
            guard let token = page.continuationToken, case .members(let teamId, _) = attempt.request else {
                state = .fanningOut
                let members = run.roster
                run.roster = []
                return .fanOut(members, tenantId: tenantId)
            }
            guard run.rosterTokens.insert(token).inserted else {
                return conclude(
                    failed: BotConnectorError(
                        code: .invalidResponse, message: "pagedmembers repeated a continuation token"))
            }
            // Each page is a request of its own: its own wait for capacity, its own retries from its own token.
            return rosterPage(teamId: teamId, tenantId: tenantId, continuationToken: token)
        case (.channels(let name), .channels(let channels)):
            guard let channel = Self.channel(named: name, in: channels) else {
                return conclude(
                    .failed,
                    .init(
                        code: "ChannelNotFound",
                        message: "team \(attempt.conversation) has no channel named \"\(name)\"", retryable: false))
            }
            return perform(Target(conversationId: channel.id, serviceUrl: nil, tenantId: attempt.tenantId))
        default:
            preconditionFailure("delivery state machine: \(answer) does not answer \(attempt.request)")
        }
    }

    /// The request failed for good; some failures have one more way round.
    private mutating func gaveUp(_ attempt: Attempt, _ error: BotConnectorError) -> Action {
        switch attempt.purpose {
        case .send(let target, let recreated):
            // Teams forgot a stored conversation, or its tenant moved to another geo since its serviceUrl was
            // stored: forget the reference and create it again, once, through the global service URL (Teams
            // answers with the serviceUrl to store).
            if error.code == .conversationNotFound || error.code == .wrongRegion, !recreated,
                let key = target.referenceKey, let parameters = target.recreate
            {
                state = .forgetting(target, parameters, key: key)
                return .forgetReference(key: key)
            }
        case .create(.userAADObjectId(let aad), let tenantId, let key, let then):
            // Teams will not open a chat with a user who never installed the app: install it for them. In the
            // field that 403 often carries no code at all (`.forbidden`): installing once is then the way to know.
            if settings.canInstall,
                error.code == .forbiddenOperation || error.code == .botNotInConversationRoster
                    || error.code == .forbidden
            {
                state = .installing(aad: aad, tenantId: tenantId, key: key, then: then)
                return .install(userId: aad, tenantId: tenantId)
            }
        default:
            break
        }
        // Another geo's serviceUrl for a conversation that cannot be created again (a channel, a group chat,
        // an update): once more through the global service URL, which reaches the tenant wherever it lives.
        if error.code == .wrongRegion, let serviceUrl = attempt.serviceUrl, serviceUrl != settings.defaultServiceUrl,
            let request = attempt.request.onDefaultServiceUrl
        {
            run.serviceUrl = settings.defaultServiceUrl
            return self.attempt(
                request, attempt.purpose, serviceUrl: nil, conversation: attempt.conversation,
                tenantId: attempt.tenantId, blockedKey: attempt.blockedKey, carriesMessage: attempt.carriesMessage)
        }
        return conclude(failed: error)
    }

    // MARK: Endings

    /// The `expired` outcome once the delivery's `expiresAt` has passed (`context` ends its message).
    private mutating func expired(while context: String) -> Action? {
        guard let expiresAt = delivery.expiresAt, expiresAt <= now else { return nil }
        return conclude(
            .expired,
            .init(code: "Expired", message: "expired at \(RFC3339.format(expiresAt))\(context)", retryable: false))
    }

    private mutating func reject(_ code: String, _ message: String) -> Action {
        conclude(.rejected, .init(code: code, message: message, retryable: false))
    }

    private mutating func conclude(failed error: BotConnectorError) -> Action {
        conclude(
            .failed,
            .init(
                code: error.teamsCode, httpStatus: error.httpStatus, message: error.message,
                retryable: error.isRetryable))
    }

    /// A final outcome. A fan-out's (its roster could not be read) has no ledger entry to mark.
    private mutating func conclude(
        _ status: DeliveryOutcome.Status, _ error: DeliveryOutcome.ErrorInfo? = nil
    ) -> Action {
        if delivery.recipient.fansOut {
            return publish(outcome(status: status, error: error), as: .noted)
        }
        return publish(outcome(status: status, error: error), as: .final)
    }

    private mutating func publish(_ outcome: DeliveryOutcome, as conclusion: Conclusion) -> Action {
        state = .publishing(conclusion)
        return .publish(outcome)
    }

    /// The delivery must stop: a claim not yet used to send is given back.
    private mutating func stop() -> Action {
        if run.claimed, !run.sent { return release(then: .abandoned) }
        return finish(.abandoned)
    }

    private mutating func release(then ending: Ending) -> Action {
        state = .releasing(ending)
        return .release
    }

    private mutating func finish(_ ending: Ending) -> Action {
        state = .finished
        return .finish(ending)
    }

    /// The outcome so far.
    func outcome(status: DeliveryOutcome.Status, error: DeliveryOutcome.ErrorInfo? = nil) -> DeliveryOutcome {
        var outcome = DeliveryOutcome(
            delivery: delivery, event: item.event, status: status, completedAt: now, worker: settings.worker)
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

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension Recipient {
    /// A recipient whose deliveries are its members' (or the person's it resolves to): it has no ledger entry.
    var fansOut: Bool {
        switch self {
        case .teamMembers, .group, .person: true
        default: false
        }
    }

    /// A send to it starts a new channel thread.
    var startsThread: Bool {
        switch self {
        case .channel(_, _, _, nil), .namedChannel: true
        default: false
        }
    }
}
