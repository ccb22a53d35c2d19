import Foundation
import Store
import Testing

@testable import Gateway

/// The translation of each activity kind and scope, without I/O.
@Suite("Gateway: what each activity means")
struct ActivityTranslatorTests {
    static let tenant = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
    let translator = ActivityTranslator(appId: "app", replyToMessages: "no reading")

    func activity(
        _ fields: [String: Any], scope: String = "personal", conversation: String = "a:1chat"
    ) -> InboundActivity {
        var object: [String: Any] = [
            "id": "f:\(UUID().uuidString)", "serviceUrl": "https://smba.trafficmanager.net/emea/",
            "channelId": "msteams",
            "from": ["id": "29:1ada", "aadObjectId": "AD4-0001", "name": "Ada"],
            "recipient": ["id": "28:app", "name": "Herald"],
            "conversation": ["id": conversation, "conversationType": scope, "tenantId": Self.tenant],
            "channelData": ["tenant": ["id": Self.tenant]],
        ]
        for (key, value) in fields { object[key] = value }
        let data = try! JSONSerialization.data(withJSONObject: object)
        return try! JSONDecoder().decode(InboundActivity.self, from: data)
    }

    func translate(_ activity: InboundActivity) -> GatewayWork {
        translator.translate(activity, body: [], receivedAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func aGroupChatInstallIsAConversationReferenceAndAnInstalledEvent() throws {
        let work = translate(
            activity(
                ["type": "installationUpdate", "action": "add"], scope: "groupChat", conversation: "19:chat@thread.v2"))
        #expect(work.references.map(\.key) == ["conversation:19:chat@thread.v2"])
        #expect(work.events.map(\.type) == ["herald.teams.app.installed"])
        #expect(
            work.events.first?.data.scope == "groupChat" && work.events.first?.data.conversation.type == "groupChat")
        #expect(work.unblocked.isEmpty && work.blocked.isEmpty)
        let removed = translate(
            activity(
                ["type": "conversationUpdate", "membersRemoved": [["id": "28:app"]]], scope: "groupChat",
                conversation: "19:chat@thread.v2"))
        #expect(removed.tombstones == ["conversation:19:chat@thread.v2"] && removed.events.isEmpty)
    }

    /// Found by fuzzing: a reference whose serviceUrl is not http(s) was written, and the importer then refused it.
    @Test(
        "an activity whose serviceUrl is not an http(s) URL is ignored, not turned into a reference",
        arguments: [
            "httpw://smba.trafficmanager.net/emea/", "file:///etc/passwd", "smba.trafficmanager.net", "",
        ])
    func aServiceUrlThatIsNotHTTPIsIgnored(serviceUrl: String) {
        let work = translate(activity(["type": "installationUpdate", "action": "add", "serviceUrl": serviceUrl]))
        #expect(work.isEmpty)
        #expect(work.ignored == "no conversation id, tenant, team id or http(s) serviceUrl")
    }

    /// Found by fuzzing: a channel activity whose conversation id starts with `;` and whose channelData names no
    /// team gave a team reference with an empty conversation id, which the importer then refused.
    @Test func aChannelActivityWithoutATeamIdIsIgnoredNotTurnedIntoAnEmptyReference() throws {
        let install: [String: Any] = ["type": "conversationUpdate", "membersAdded": [["id": "28:app"]]]
        let orphan = translate(activity(install, scope: "channel", conversation: ";;19:x@thread.tacv2"))
        #expect(orphan.isEmpty)
        #expect(orphan.ignored == "no conversation id, tenant, team id or http(s) serviceUrl")

        // Empty team and channel ids are absent ones: the team comes from the conversation id before `;`.
        var fields = install
        fields["channelData"] = ["tenant": ["id": Self.tenant], "team": ["id": ""], "channel": ["id": ""]]
        let thread = "19:ops@thread.tacv2"
        let work = translate(activity(fields, scope: "channel", conversation: thread + ";messageid=17"))
        #expect(work.references.map(\.key) == ["team:\(Self.tenant)/\(thread)"])
        let line = String(decoding: try #require(work.references.first).json, as: UTF8.self)
        let reference = try BotFrameworkReference.parse(line)
        #expect(reference.conversationId == thread && reference.channelId == thread, "the team's General channel")
    }

    /// The locale a reference keeps picks the language of `message.locales`: a personal chat's is its user's, a
    /// team's or group chat's is nobody's (whoever spoke last is one reader of many).
    @Test func onlyAPersonalChatsReferenceKeepsTheSendersLocale() throws {
        let message: [String: Any] = ["type": "message", "text": "hi", "locale": "de-AT"]
        for (scope, conversation, locale) in [
            ("personal", "a:1chat", "de-AT"), ("groupChat", "19:chat@thread.v2", nil),
            ("channel", "19:ops@thread.tacv2;messageid=17", nil),
        ] as [(String, String, String?)] {
            let work = translate(activity(message, scope: scope, conversation: conversation))
            let line = String(decoding: try #require(work.references.first, "\(scope)").json, as: UTF8.self)
            #expect(try BotFrameworkReference.parse(line).locale == locale, "\(scope)")
            #expect(work.events.first?.data.locale == "de-AT", "the event still says who wrote in which language")
        }
    }

    @Test func anUpgradeRefreshesTheReferenceAndPublishesNothing() {
        let added = translate(activity(["type": "installationUpdate", "action": "add-upgrade"]))
        #expect(added.references.count == 1 && added.events.isEmpty, "a new version is not a new install")
        let removed = translate(activity(["type": "installationUpdate", "action": "remove-upgrade"]))
        #expect(removed.isEmpty && removed.ignored != nil)
    }

    @Test func aPersonalInstallUnblocksAndAnUninstallBlocksTheSameKey() {
        let key = "user:aad:\(Self.tenant)/ad4-0001"
        let installed = translate(activity(["type": "installationUpdate", "action": "add"]))
        #expect(installed.references.map(\.key) == [key] && installed.unblocked == [key])
        let uninstalled = translate(activity(["type": "installationUpdate", "action": "remove"]))
        #expect(uninstalled.blocked == [key] && uninstalled.tombstones.isEmpty)
        #expect(uninstalled.events.first?.data.referenceKey == key)
        // The bot removed from the personal chat, without installationUpdate: blocked as well, no event.
        let botRemoved = translate(activity(["type": "conversationUpdate", "membersRemoved": [["id": "28:app"]]]))
        #expect(botRemoved.blocked == [key] && botRemoved.events.isEmpty)
    }

    @Test func teamDeletedForgetsTheTeamAndMembersLeavingAreOneEventEach() {
        let team = "19:team@thread.tacv2"
        let teamData: [String: Any] = [
            "tenant": ["id": Self.tenant], "team": ["id": team, "name": "Ops"], "eventType": "teamDeleted",
        ]
        let deleted = translate(
            activity(["type": "conversationUpdate", "channelData": teamData], scope: "channel", conversation: team))
        #expect(deleted.tombstones == ["team:\(Self.tenant)/\(team)"] && deleted.events.isEmpty)
        var leftData = teamData
        leftData["eventType"] = "teamMemberRemoved"
        let left = translate(
            activity(
                [
                    "type": "conversationUpdate", "channelData": leftData,
                    "membersRemoved": [["id": "29:1b", "aadObjectId": "B0B"], ["id": "29:1c", "aadObjectId": "C0C"]],
                ], scope: "channel", conversation: team))
        #expect(left.events.map(\.type) == ["herald.teams.members.removed", "herald.teams.members.removed"])
        #expect(left.events.map(\.subject) == ["b0b", "c0c"])
        #expect(left.events.allSatisfy { $0.data.actor?.name == "Ada" }, "who removed them")
        #expect(left.tombstones.isEmpty && left.references.isEmpty)
        var renamed = teamData
        renamed["eventType"] = "teamRenamed"
        let refreshed = translate(
            activity(["type": "conversationUpdate", "channelData": renamed], scope: "channel", conversation: team))
        #expect(refreshed.references.map(\.key) == ["team:\(Self.tenant)/\(team)"] && refreshed.events.isEmpty)
    }

    @Test func eventIdsFollowTheActivityNotTheMoment() {
        let install = activity(["type": "installationUpdate", "action": "add", "id": "f:fixed"])
        let first = translator.translate(install, body: [1], receivedAt: Date(timeIntervalSince1970: 1))
        let again = translator.translate(install, body: [2], receivedAt: Date(timeIntervalSince1970: 2))
        #expect(first.events.map(\.id) == again.events.map(\.id), "a retried activity is the same event")
        let other = translator.translate(
            activity(["type": "installationUpdate", "action": "add", "id": "f:other"]), body: [1],
            receivedAt: Date(timeIntervalSince1970: 1))
        #expect(first.events.map(\.id) != other.events.map(\.id))
        // Without an id the whole body decides.
        let bare = activity(["type": "installationUpdate", "action": "add", "id": NSNull()])
        let bodyA = translator.translate(bare, body: Array("a".utf8), receivedAt: Date())
        let bodyB = translator.translate(bare, body: Array("b".utf8), receivedAt: Date())
        #expect(bodyA.events.map(\.id) != bodyB.events.map(\.id))
    }

    @Test func activitiesWithoutATenantOrConversationAreIgnored() {
        var noTenant = activity(["type": "installationUpdate", "action": "add"])
        noTenant.conversation?.tenantId = nil
        noTenant.channelData = nil
        #expect(translate(noTenant).isEmpty)
        var noConversation = activity(["type": "message", "text": "hi"])
        noConversation.conversation = nil
        #expect(translate(noConversation).isEmpty)
    }

    @Test func aTimestampIsKeptOnlyWhenItIsAnRFC3339UTCTime() {
        typealias Context = ActivityTranslator.Context
        #expect(Context.time("2017-02-09T21:38:47.2540453Z") == "2017-02-09T21:38:47.2540453Z")
        #expect(Context.time("2026-12-02T10:00:00Z") == "2026-12-02T10:00:00Z")
        for bad in [
            "2026-12-02T10:00:00", "2026-12-02 10:00:00Z", "2026-12-02T10:00:00.Z", "yesterday", "",
            "2026-1x-02T10:00:00Z",
        ] {
            #expect(Context.time(bad) == nil, "\(bad)")
        }
    }
}
