import BotConnector
import Foundation
import HeraldConfig
import RateLimiting
import Routing
import Store
import Testing

@testable import Engine

/// The delivery state machine on its own: no store, no Kafka, no Teams. Each test plays the driver, feeding
/// events at chosen times and checking the actions a user would see the effects of.
@Suite("Delivery state machine")
struct DeliveryMachineTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let tenant = "tenant-1"

    static func item(
        _ recipient: Recipient, action: DeliveryAction = .send, expiresAt: Date? = nil, deliverAt: Date? = nil,
        quietHours: QuietHours? = nil, notificationKey: String? = nil
    ) -> WorkItem {
        let delivery = Delivery(
            eventId: "e-1", route: "tickets", recipient: recipient,
            message: RenderedMessage(body: .text("hello"), summary: nil, alert: false),
            notificationKey: notificationKey, action: action, quietHours: quietHours, expiresAt: expiresAt,
            deliverAt: deliverAt)
        let event = NotificationEvent(
            id: "e-1", type: "ticket.assigned", source: "/helpdesk", time: RFC3339.format(start), traceparent: nil,
            input: InputPosition(topic: "events", partition: 0, offset: 7))
        return WorkItem(delivery: delivery, event: event, origin: .deferred(id: "d"), now: start)
    }

    static let aadUser = Recipient.user(userId: nil, aadObjectId: "aad-1", tenantId: tenant)
    static let stored = Recipient.reference(key: "ref-1")

    static func settings(
        maxAttempts: Int = 5, onUncertain: UncertainDeliveryPolicy = .fail, canInstall: Bool = true
    ) -> DeliveryMachine.Settings {
        DeliveryMachine.Settings(
            worker: "w-1",
            retry: RetryPolicy(backoff: Backoff(base: .seconds(1), cap: .seconds(60)), maxAttempts: maxAttempts),
            giveUpAfter: .seconds(3600), claimLease: .seconds(30), blockedRecheckAfter: .seconds(86_400),
            onUncertain: onUncertain, canInstall: canInstall, defaultServiceUrl: "https://smba.example/amer/",
            canReadDirectory: true)
    }

    static func reference(blockedAt: Date? = nil) -> ConversationReference {
        ConversationReference(
            key: "ref-1", conversationId: "a:stored", serviceUrl: "https://smba.example/emea/", tenantId: tenant,
            userId: "29:u", aadObjectId: "aad-1", scope: .personal, blockedAt: blockedAt)
    }

    static func entry(_ state: DeliveryState, input: String? = nil) -> LedgerEntry {
        LedgerEntry(
            deliveryId: "x", state: state, activityId: "act-9", conversationId: "a:c9",
            serviceUrl: "https://smba.example/emea/", attempts: 2, createdAt: start, updatedAt: start, input: input)
    }

    static func teams(_ code: BotConnectorError.Code, status: Int, retryAfter: Duration? = nil) -> BotConnectorError {
        BotConnectorError(code: code, httpStatus: status, message: "teams said no", retryAfter: retryAfter)
    }

    /// Plays the driver: feeds events at a moving time and keeps the last action.
    struct Driver {
        var machine: DeliveryMachine
        var now = DeliveryMachineTests.start
        private(set) var action: DeliveryMachine.Action

        init(_ item: WorkItem, _ settings: DeliveryMachine.Settings = DeliveryMachineTests.settings()) {
            machine = DeliveryMachine(item: item, settings: settings)
            action = machine.next(after: .start, now: now)
        }

        @discardableResult
        mutating func on(_ event: DeliveryMachine.Event, after elapsed: TimeInterval = 0) -> DeliveryMachine.Action {
            now += elapsed
            action = machine.next(after: event, now: now)
            return action
        }

        /// Feeds the events a claimed stored-reference delivery needs to reach its first request.
        mutating func claimAndLookUp(_ reference: ConversationReference = DeliveryMachineTests.reference()) {
            on(.claim(.claimed))
            on(.reference(reference))
            on(.optedOut(false))
            on(.serviceUrlChecked(nil))
            on(.capacityReady)
            on(.markedSending)
        }

        /// Feeds the events a claimed user delivery without a stored reference needs to reach its conversation
        /// create.
        mutating func reachUserCreate() {
            on(.claim(.claimed))
            on(.optedOut(false))
            on(.reference(nil))
            on(.serviceUrlChecked(nil))
            on(.capacityReady)
        }

        /// Feeds the events from a stored new reference to the request that sends to it.
        mutating func sendToStoredReference() -> DeliveryMachine.Action {
            on(.referenceStored)
            on(.serviceUrlChecked(nil))
            on(.capacityReady)
            return on(.markedSending)
        }

        var published: DeliveryOutcome? {
            if case .publish(let outcome) = action { return outcome }
            return nil
        }
    }

    // MARK: The ledger

    @Test func aDeliveryAlreadySentByADeadWorkerIsPublishedAsSentNotSentAgain() {
        var driver = Driver(Self.item(Self.stored))
        #expect(driver.action.name == "claim")
        driver.on(.claim(.alreadySent(Self.entry(.sent))))
        let outcome = try! #require(driver.published)
        #expect(outcome.status == .delivered)
        #expect(outcome.activityId == "act-9" && outcome.conversationId == "a:c9" && outcome.attempts == 2)
        #expect(driver.on(.published).name == "markPublished")
        #expect(driver.on(.markedPublished).ending == .completed)
    }

    @Test func aDeliveryLeftUncertainFailsUnlessTheRouteSaysResend() {
        var failing = Driver(Self.item(Self.stored))
        failing.on(.claim(.uncertain(Self.entry(.sending))))
        #expect(failing.published?.status == .failed)
        #expect(failing.published?.error?.code == "DeliveryUncertain")
        #expect(failing.published?.error?.retryable == true)

        var resending = Driver(Self.item(Self.stored), Self.settings(onUncertain: .resend))
        #expect(resending.on(.claim(.uncertain(Self.entry(.sending)))).name == "takeOverUncertain")
        #expect(resending.on(.tookOver(false)).name == "claim", "another worker took it first: ask the ledger again")
        #expect(resending.on(.claim(.uncertain(Self.entry(.sending)))).name == "takeOverUncertain")
        #expect(resending.on(.tookOver(true)).name == "lookUpReference", "taken over: it is sent again")
        #expect(resending.machine.run.claimed)
    }

    @Test func aDeliveryClaimedByAnotherWorkerWaitsForItsClaimThenAsksAgain() {
        var driver = Driver(Self.item(Self.stored))
        let action = driver.on(.claim(.claimedByOther(worker: "w-2", until: Self.start.addingTimeInterval(0.4))))
        guard case .wait(let wait) = action else { Issue.record("expected a wait, got \(action.name)"); return }
        #expect(wait == .milliseconds(400))
        #expect(driver.on(.waited, after: 0.4).name == "claim")
        guard case .wait(let long) = driver.on(.claim(.claimedByOther(worker: "w-2", until: driver.now + 3600))) else {
            Issue.record("expected a wait")
            return
        }
        #expect(long == .seconds(1), "a long claim is checked again every second")
    }

    @Test func aRecordReadAgainWhoseOutcomeIsPublishedPublishesNothing() {
        var driver = Driver(Self.item(Self.stored))
        #expect(
            driver.on(.claim(.outcomePublished(Self.entry(.outcomePublished, input: "events/0/7")))).ending == .replayed
        )

        var other = Driver(Self.item(Self.stored))
        other.on(.claim(.outcomePublished(Self.entry(.outcomePublished, input: "events/0/3"))))
        #expect(other.published?.error?.code == "Duplicate")
        #expect(other.published?.duplicateOf == InputPosition(topic: "events", partition: 0, offset: 3))
        #expect(other.on(.published).ending == .completed, "a duplicate marks nothing in the ledger")
    }

    // MARK: Time

    @Test func aDeliveryThatExpiresWhileRetryingExpiresInsteadOfBeingSent() {
        var driver = Driver(Self.item(Self.stored, expiresAt: Self.start.addingTimeInterval(30)))
        driver.claimAndLookUp()
        #expect(driver.action.name == "request")
        let retry = driver.on(.failed(Self.teams(.serviceUnavailable, status: 503)))
        #expect(retry.name == "retry")
        driver.on(.waited, after: 31)
        #expect(driver.published?.status == .expired)
        #expect(driver.published?.error?.message.contains("before it could be sent") == true)
        #expect(driver.published?.attempts == 1)
        #expect(driver.on(.published).name == "markPublished")
    }

    @Test func anExpiredDeliveryIsNotSentAndAFutureOneIsDeferredDurably() {
        var expired = Driver(Self.item(Self.stored, expiresAt: Self.start.addingTimeInterval(-1)))
        expired.on(.claim(.claimed))
        #expect(expired.published?.status == .expired)

        let later = Self.start.addingTimeInterval(3600)
        var deferred = Driver(Self.item(Self.aadUser, deliverAt: later))
        deferred.on(.claim(.claimed))
        let deferral = deferred.on(.optedOut(false))
        guard case .storeDeferral(let dueAt) = deferral else { Issue.record("got \(deferral.name)"); return }
        #expect(dueAt == later)
        deferred.on(.deferralStored)
        #expect(deferred.published?.status == .deferred)
        #expect(deferred.on(.published).name == "release", "the claim is given back until it is due")
        #expect(deferred.on(.released).ending == .completed)
    }

    @Test func quietHoursDeferUntilTheyEndInTheRecipientsZone() {
        // 1_800_000_000 is 2027-01-15 08:00 UTC: inside 07:00-09:00 UTC quiet hours.
        let quiet = QuietHours(from: 7 * 60, to: 9 * 60, timeZone: "UTC")
        var driver = Driver(Self.item(Self.aadUser, quietHours: quiet))
        driver.on(.claim(.claimed))
        guard case .storeDeferral(let dueAt) = driver.on(.optedOut(false)) else {
            Issue.record("got \(driver.action.name)")
            return
        }
        #expect(dueAt == Self.start.addingTimeInterval(3600))
    }

    @Test func aLongWaitForCapacityRenewsTheClaimBeforeSending() {
        var driver = Driver(Self.item(Self.stored))
        driver.on(.claim(.claimed))
        driver.on(.reference(Self.reference()))
        driver.on(.optedOut(false))
        driver.on(.serviceUrlChecked(nil))
        #expect(driver.on(.capacityReady, after: 16).name == "claim", "more than half the 30 s lease went by")
        #expect(driver.on(.claim(.claimed)).name == "markSending")

        var lost = Driver(Self.item(Self.stored))
        lost.on(.claim(.claimed))
        lost.on(.reference(Self.reference()))
        lost.on(.optedOut(false))
        lost.on(.serviceUrlChecked(nil))
        lost.on(.capacityReady, after: 16)
        #expect(
            lost.on(.claim(.claimedByOther(worker: "w-2", until: lost.now + 30))).name == "release",
            "a claim taken meanwhile stops the delivery")
        #expect(lost.on(.released).ending == .abandoned)
    }

    // MARK: Teams' answers

    @Test func a404OnAStoredConversationForgetsItAndCreatesItAgainOnce() {
        var driver = Driver(Self.item(Self.stored))
        driver.claimAndLookUp()
        guard case .request(.send("a:stored", _), _) = driver.action else { Issue.record("\(driver.action)"); return }
        guard case .forgetReference("ref-1") = driver.on(.failed(Self.teams(.conversationNotFound, status: 404))) else {
            Issue.record("expected the reference to be forgotten, got \(driver.action.name)")
            return
        }
        guard case .checkServiceUrl(nil) = driver.on(.referenceForgotten) else {
            Issue.record("\(driver.action)"); return
        }
        driver.on(.serviceUrlChecked(nil))
        guard case .request(.createConversation(.userAADObjectId("aad-1"), Self.tenant), _) = driver.on(.capacityReady)
        else {
            Issue.record("expected a conversation create, got \(driver.action)")
            return
        }
        let stored = driver.on(.answered(.conversation(ConversationResource(id: "a:new"))))
        guard case .storeReference(let reference) = stored else { Issue.record("\(stored.name)"); return }
        #expect(reference.key == "ref-1" && reference.conversationId == "a:new")
        #expect(reference.serviceUrl == "https://smba.example/amer/", "Teams named no service URL: the default")
        guard case .request(.send("a:new", _), _) = driver.sendToStoredReference() else {
            Issue.record("expected the send to the new conversation, got \(driver.action)")
            return
        }
        driver.on(.failed(Self.teams(.conversationNotFound, status: 404)))
        #expect(driver.published?.status == .failed, "only once: a second 404 fails the delivery")
        #expect(driver.published?.error?.code == "ConversationNotFound")
        #expect(driver.published?.attempts == 3)
    }

    @Test func aUserWhoNeverInstalledTheAppGetsItInstalledOnceAndTheMessageSent() {
        var driver = Driver(Self.item(Self.aadUser))
        driver.reachUserCreate()
        #expect(driver.action.name == "request", "a 1:1 create is not marked sending")
        let install = driver.on(.failed(Self.teams(.forbiddenOperation, status: 403)))
        guard case .install("aad-1", Self.tenant) = install else { Issue.record("got \(install.name)"); return }
        let stored = driver.on(.installed(chatId: "19:chat", installed: true))
        guard case .storeReference(let reference) = stored else { Issue.record("got \(stored.name)"); return }
        #expect(reference.conversationId == "19:chat" && reference.aadObjectId == "aad-1")
        guard case .request(.send("19:chat", _), _) = driver.sendToStoredReference() else {
            Issue.record("expected the send to the installation's chat, got \(driver.action)")
            return
        }
        guard case .recordSent(let sent) = driver.on(.answered(.activityId("1:act"))) else {
            Issue.record("got \(driver.action.name)")
            return
        }
        #expect(sent.activityId == "1:act" && sent.conversationId == "19:chat")
        driver.on(.sentRecorded)
        #expect(driver.published?.status == .delivered)
        #expect(driver.published?.installedApp == true)

        var again = Driver(Self.item(Self.aadUser))
        again.reachUserCreate()
        again.on(.failed(Self.teams(.forbiddenOperation, status: 403)))
        again.on(.failed(Self.teams(.graphConsentMissing, status: 403)))
        #expect(again.published?.error?.code == "GraphConsentMissing", "a failed installation fails the delivery")

        // A 403 with no code, as Teams often answers in the field: installing once is the way to know.
        var codeless = Driver(Self.item(Self.aadUser))
        codeless.reachUserCreate()
        guard case .install("aad-1", Self.tenant) = codeless.on(.failed(Self.teams(.forbidden, status: 403))) else {
            Issue.record("a code-less 403 on a user's create installs, got \(codeless.action.name)")
            return
        }
        codeless.on(.installed(chatId: "19:chat", installed: true))
        guard case .request(.send("19:chat", _), _) = codeless.sendToStoredReference() else {
            Issue.record("expected the send to the installation's chat, got \(codeless.action)")
            return
        }
        codeless.on(.failed(Self.teams(.forbidden, status: 403)))
        #expect(codeless.published?.error?.code == "Forbidden", "once: the send's own 403 fails the delivery")

        var without = Driver(Self.item(Self.aadUser), Self.settings(canInstall: false))
        without.reachUserCreate()
        without.on(.failed(Self.teams(.forbiddenOperation, status: 403)))
        #expect(without.published?.error?.code == "ForbiddenOperationException", "no installer: it fails")
    }

    @Test(arguments: [
        BotConnectorError.Code.messageWritesBlocked, .conversationBlockedByUser, .botNotInConversationRoster,
        .botDisabledByAdmin, .forbiddenOperation,
    ])
    func aRecipientWhoBlockedTheBotIsMarkedBlockedAndNotRetried(code: BotConnectorError.Code) {
        var driver = Driver(Self.item(Self.stored))
        driver.claimAndLookUp()
        let mark = driver.on(.failed(Self.teams(code, status: 403)))
        guard case .markBlocked("ref-1", let teamsCode) = mark else { Issue.record("got \(mark.name)"); return }
        #expect(teamsCode == code.teamsName)
        driver.on(.blockedMarked)
        #expect(driver.published?.status == .failed)
        #expect(driver.published?.error?.code == code.teamsName)
        #expect(driver.published?.attempts == 1)

        // Marked less than blockedRecheckAfter ago: not tried at all.
        var later = Driver(Self.item(Self.stored))
        later.on(.claim(.claimed))
        later.on(.reference(Self.reference(blockedAt: Self.start.addingTimeInterval(-60))))
        #expect(later.published?.status == .suppressed)
        #expect(later.published?.error?.code == "RecipientBlocked")
    }

    @Test func a429WaitsForRetryAfterWhenTeamsSaysAndForABackoffWhenItDoesNot() {
        var driver = Driver(Self.item(Self.stored))
        driver.claimAndLookUp()
        #expect(
            driver.on(.failed(Self.teams(.throttled, status: 429, retryAfter: .seconds(7)))).name == "markNotSending")
        guard case .retry(let told, _, 1) = driver.on(.markedNotSending) else {
            Issue.record("got \(driver.action)")
            return
        }
        #expect(told == .seconds(7), "Teams' Retry-After wins")
        driver.on(.waited, after: 7)
        driver.on(.capacityReady)
        driver.on(.markedSending)
        driver.on(.failed(Self.teams(.throttled, status: 429)))
        guard case .retry(let backoff, _, 2) = driver.on(.markedNotSending) else {
            Issue.record("got \(driver.action)")
            return
        }
        #expect(backoff >= .zero && backoff <= .seconds(2), "the second retry waits up to twice the base")
        driver.on(.waited, after: 2)
        driver.on(.capacityReady)
        driver.on(.markedSending)
        driver.on(.answered(.activityId("1:a")))
        driver.on(.sentRecorded)
        #expect(driver.published?.status == .delivered)
        #expect(driver.published?.throttled == 2 && driver.published?.attempts == 3)
    }

    @Test func aRetryableFailureWithoutProofOfRefusalStaysSendingAndGivesUpAfterMaxAttempts() {
        var driver = Driver(Self.item(Self.stored), Self.settings(maxAttempts: 2))
        driver.claimAndLookUp()
        #expect(
            driver.on(.failed(Self.teams(.serviceUnavailable, status: 503))).name == "retry",
            "a 503 proves nothing: the ledger keeps it sending")
        driver.on(.waited, after: 1)
        driver.on(.capacityReady)
        driver.on(.markedSending)
        driver.on(.failed(Self.teams(.serviceUnavailable, status: 503)))
        #expect(driver.published?.status == .failed && driver.published?.error?.retryable == true)
        #expect(driver.published?.error?.httpStatus == 503 && driver.published?.attempts == 2)
    }

    @Test func aServiceUrlOutsideTheAllowListIsRejectedBeforeAnyWaitOrRequest() {
        var driver = Driver(Self.item(.conversation(id: "19:c", serviceUrl: "https://evil.example/", tenantId: "t")))
        driver.on(.claim(.claimed))
        #expect(driver.action.name == "checkServiceUrl")
        driver.on(.serviceUrlChecked(Self.teams(.serviceUrlNotAllowed, status: 0)))
        #expect(driver.published?.status == .rejected && driver.published?.error?.code == "ServiceUrlNotAllowed")
        #expect(driver.published?.attempts == 0)
    }

    // MARK: Stopping

    @Test func aShutdownWhileWaitingToRetryGivesTheClaimBackAndPublishesNothing() {
        var driver = Driver(Self.item(Self.stored))
        driver.claimAndLookUp()
        driver.on(.failed(Self.teams(.gatewayTimeout, status: 504)))
        #expect(driver.action.name == "retry")
        #expect(driver.on(.stopped).name == "release")
        #expect(driver.on(.released).ending == .abandoned)
    }

    @Test func aRevokeWhileSendingKeepsTheRecordedSendForTheNextOwnerToPublish() {
        var driver = Driver(Self.item(Self.stored))
        driver.claimAndLookUp()
        driver.on(.answered(.activityId("1:sent")))
        #expect(driver.action.name == "recordSent", "the send is recorded whatever happens next")
        driver.on(.sentRecorded)
        #expect(driver.published?.status == .delivered)
        // The partition went to another worker before the outcome was published.
        #expect(driver.on(.stopped).ending == .abandoned, "nothing released: the ledger says sent")
    }

    @Test func anOptedOutRecipientIsSuppressed() {
        var driver = Driver(Self.item(Self.aadUser))
        driver.on(.claim(.claimed))
        #expect(driver.action.name == "checkOptOut")
        driver.on(.optedOut(true))
        #expect(driver.published?.status == .suppressed && driver.published?.error?.code == "OptedOut")
    }

    @Test func anUpdateWithoutAPreviousMessageIsSentAndADeleteFails() {
        var update = Driver(Self.item(Self.stored, action: .update, notificationKey: "k"))
        update.on(.claim(.claimed))
        update.on(.reference(Self.reference()))
        guard case .lookUpPrevious("k", _) = update.on(.optedOut(false)) else {
            Issue.record("\(update.action)"); return
        }
        update.on(.previous(nil))
        update.on(.serviceUrlChecked(nil))
        update.on(.capacityReady)
        guard case .request(.send, _) = update.on(.markedSending) else { Issue.record("\(update.action)"); return }

        var delete = Driver(Self.item(Self.stored, action: .delete, notificationKey: "k"))
        delete.on(.claim(.claimed))
        delete.on(.reference(Self.reference()))
        delete.on(.optedOut(false))
        delete.on(.previous(nil))
        #expect(delete.published?.error?.code == "NotificationNotFound")

        var change = Driver(Self.item(Self.stored, action: .update, notificationKey: "k"))
        change.on(.claim(.claimed))
        change.on(.reference(Self.reference()))
        change.on(.optedOut(false))
        change.on(.previous(Self.entry(.outcomePublished)))
        change.on(.serviceUrlChecked(nil))
        change.on(.capacityReady)
        guard case .request(.update("a:c9", "https://smba.example/emea/", "act-9"), _) = change.on(.markedSending)
        else {
            Issue.record("expected the update of the previous message, got \(change.action)")
            return
        }
        change.on(.answered(.activityId("act-9")))
        change.on(.sentRecorded)
        #expect(change.published?.status == .updated)
    }

    @Test func aTeamFanOutReadsTheRosterWithoutAClaimAndPublishesItsFailureUnrecorded() {
        var driver = Driver(Self.item(.teamMembers(teamId: "19:team", tenantId: Self.tenant)))
        #expect(driver.action.name == "checkServiceUrl", "a team has no ledger entry of its own")
        driver.on(.serviceUrlChecked(nil))
        guard case .request(.members("19:team", nil), _) = driver.on(.capacityReady) else {
            Issue.record("\(driver.action)")
            return
        }
        let members = [TeamsMember(id: "29:a"), TeamsMember(id: "29:b")]
        let page = MembersPage(members: members, continuationToken: nil)
        guard case .fanOut(let fanned, Self.tenant) = driver.on(.answered(.members(page))) else {
            Issue.record("\(driver.action.name)")
            return
        }
        #expect(fanned.map(\.id) == ["29:a", "29:b"])
        #expect(driver.on(.membersDone(allCompleted: false)).ending == .abandoned)

        var failing = Driver(Self.item(.teamMembers(teamId: "19:team", tenantId: Self.tenant)))
        failing.on(.serviceUrlChecked(nil))
        failing.on(.capacityReady)
        failing.on(.failed(Self.teams(.notFound, status: 404)))
        #expect(failing.published?.status == .failed)
        #expect(failing.on(.published).ending == .completed, "no ledger entry to mark")
    }

    @Test func aPersonNamedByEmailIsResolvedBeforeAnyClaimAndDeliveredAsTheUserTheyAre() {
        var driver = Driver(Self.item(.person(.email("ada@example.com"), tenantId: Self.tenant)))
        guard case .resolvePerson(.email("ada@example.com"), Self.tenant) = driver.action else {
            Issue.record("expected a directory lookup first, got \(driver.action.name)")
            return
        }
        guard
            case .fanOutPeople(["aad-ada"], Self.tenant) = driver.on(
                .person(.init(id: "aad-ada", accountEnabled: true)))
        else {
            Issue.record("expected one delivery to the resolved user, got \(driver.action.name)")
            return
        }
        #expect(driver.on(.membersDone(allCompleted: true)).ending == .completed, "the person's delivery publishes")

        var nobody = Driver(Self.item(.person(.upn("gone@example.com"), tenantId: Self.tenant)))
        nobody.on(.person(nil))
        #expect(nobody.published?.error?.code == "RecipientNotFound")
        #expect(nobody.published?.status == .failed)
        #expect(nobody.on(.published).ending == .completed, "no ledger entry to mark")

        var disabled = Driver(Self.item(.person(.email("left@example.com"), tenantId: Self.tenant)))
        disabled.on(.person(.init(id: "aad-left", accountEnabled: false)))
        #expect(disabled.published?.error?.code == "RecipientDisabled")

        var refused = Driver(Self.item(.person(.email("ada@example.com"), tenantId: Self.tenant)))
        refused.on(.failed(BotConnectorError(code: .directoryConsentMissing, httpStatus: 403, message: "grant it")))
        #expect(refused.published?.error?.code == "DirectoryConsentMissing")

        var noTenant = Driver(Self.item(.person(.email("ada@example.com"), tenantId: nil)))
        #expect(noTenant.action.name == "publish")
        #expect(noTenant.published?.error?.code == "MissingTenantId")
        _ = noTenant.on(.published)

        var noGraph = Driver(
            Self.item(.group(id: "g", tenantId: Self.tenant)),
            {
                var s = Self.settings(); s.canReadDirectory = false; return s
            }())
        #expect(noGraph.published?.error?.code == "DirectoryUnavailable")
    }

    @Test func aGroupIsDeliveredPageByPageToItsEnabledUsers() {
        var driver = Driver(Self.item(.group(id: "g-1", tenantId: Self.tenant)))
        guard case .readGroupPage("g-1", Self.tenant, nil) = driver.action else {
            Issue.record("\(driver.action.name)")
            return
        }
        let first = GraphClient.GroupMembersPage(
            users: [.init(id: "a", accountEnabled: true), .init(id: "b", accountEnabled: false)], nextLink: "next-1")
        guard case .fanOutPeople(["a"], Self.tenant) = driver.on(.groupPage(first)) else {
            Issue.record("a disabled member gets nothing: \(driver.action.name)")
            return
        }
        guard case .readGroupPage("g-1", Self.tenant, "next-1") = driver.on(.membersDone(allCompleted: true)) else {
            Issue.record("the next page is read only after this page's people: \(driver.action.name)")
            return
        }
        let last = GraphClient.GroupMembersPage(users: [.init(id: "c", accountEnabled: true)], nextLink: nil)
        guard case .fanOutPeople(["c"], _) = driver.on(.groupPage(last)) else {
            Issue.record("\(driver.action.name)")
            return
        }
        #expect(driver.on(.membersDone(allCompleted: true)).ending == .completed)

        var stopped = Driver(Self.item(.group(id: "g-1", tenantId: Self.tenant)))
        stopped.on(.groupPage(first))
        #expect(stopped.on(.membersDone(allCompleted: false)).ending == .abandoned, "the record is read again")

        var looping = Driver(Self.item(.group(id: "g-1", tenantId: Self.tenant)))
        looping.on(.groupPage(first))
        looping.on(.membersDone(allCompleted: true))
        looping.on(.groupPage(first))
        #expect(looping.published?.status == .failed, "a repeated next link would page forever")

        var unknown = Driver(Self.item(.group(id: "nope", tenantId: Self.tenant)))
        unknown.on(.groupPage(nil))
        #expect(unknown.published?.error?.code == "GroupNotFound")
    }

    @Test func aChannelByNameIsFoundInTheTeamsListAndAMissingNameIsReadAgainBeforeItFails() {
        let recipient = Recipient.namedChannel(teamId: "19:team", channelName: "incidents", tenantId: Self.tenant)
        var driver = Driver(Self.item(recipient))
        driver.on(.claim(.claimed))
        #expect(driver.action.name == "lookUpChannels")
        // The cached list lacks the channel (created since): Teams is asked.
        driver.on(.channels([TeamChannel(id: "19:team", name: "General")]))
        driver.on(.serviceUrlChecked(nil))
        guard case .request(.channels("19:team"), _) = driver.on(.capacityReady) else {
            Issue.record("\(driver.action.name)")
            return
        }
        let channels = [TeamChannel(id: "19:team", name: "General"), TeamChannel(id: "19:inc", name: "Incidents")]
        driver.on(.answered(.channels(channels)))
        driver.on(.serviceUrlChecked(nil))
        driver.on(.capacityReady)
        guard case .request(.createThread("19:inc", Self.tenant, nil), _) = driver.on(.markedSending) else {
            Issue.record("a new thread in the named channel: \(driver.action)")
            return
        }

        var missing = Driver(Self.item(recipient))
        missing.on(.claim(.claimed))
        missing.on(.channels(nil))
        missing.on(.serviceUrlChecked(nil))
        missing.on(.capacityReady)
        missing.on(.answered(.channels([TeamChannel(id: "19:team", name: "General")])))
        #expect(missing.published?.error?.code == "ChannelNotFound")
        #expect(missing.on(.published).name == "markPublished", "a channel delivery has its ledger entry")
    }
}

extension DeliveryMachine.Action {
    /// The action's case, for messages and comparisons.
    var name: String {
        switch self {
        case .claim: "claim"
        case .takeOverUncertain: "takeOverUncertain"
        case .wait: "wait"
        case .retry: "retry"
        case .checkOptOut: "checkOptOut"
        case .storeDeferral: "storeDeferral"
        case .joinDigest: "joinDigest"
        case .lookUpReference: "lookUpReference"
        case .storeReference: "storeReference"
        case .forgetReference: "forgetReference"
        case .lookUpPrevious: "lookUpPrevious"
        case .checkServiceUrl: "checkServiceUrl"
        case .waitForCapacity: "waitForCapacity"
        case .markSending: "markSending"
        case .markNotSending: "markNotSending"
        case .request: "request"
        case .markBlocked: "markBlocked"
        case .install: "install"
        case .recordSent: "recordSent"
        case .fanOut: "fanOut"
        case .fanOutPeople: "fanOutPeople"
        case .resolvePerson: "resolvePerson"
        case .readGroupPage: "readGroupPage"
        case .lookUpChannels: "lookUpChannels"
        case .publish: "publish"
        case .markPublished: "markPublished"
        case .release: "release"
        case .finish: "finish"
        }
    }

    var ending: DeliveryMachine.Ending? {
        if case .finish(let ending) = self { return ending }
        return nil
    }
}
