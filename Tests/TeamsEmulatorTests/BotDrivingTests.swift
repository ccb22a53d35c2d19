import Foundation
import TeamsEmulator
import Testing

@Suite("The emulator posting to the bot's messaging endpoint, as Teams")
struct BotDrivingTests {
    static let user = #"{"aadObjectId":"aad-ada","name":"Ada"}"#

    @Test("a personal install posts installationUpdate then conversationUpdate with the bot, tokens that verify")
    func personalInstall() async throws {
        try await withEmulatorAndBot { raw, bot in
            let reply = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"personal","action":"add","tenantId":"tenant-1","user":\#(Self.user),"#
                    + #""locale":"de-DE","timeZone":"America/New_York"}"#)
            #expect(reply.status == 200)
            let conversationId = try #require(reply.json["conversationId"] as? String)
            #expect(conversationId.hasPrefix("a:"))
            #expect(reply.json["serviceUrl"] as? String == raw.emulator.inboundServiceUrl)
            let results = try #require(reply.json["activities"] as? [[String: Any]])
            #expect(results.map { $0["type"] as? String } == ["installationUpdate", "conversationUpdate"])
            #expect(results.map { $0["status"] as? Int } == [200, 200])
            #expect(results.map { $0["attempts"] as? Int } == [1, 1])

            let received = bot.received
            #expect(received.count == 2)
            #expect(received.allSatisfy { $0.verified == true && $0.contentType == "application/json" })
            let update = received[0].json
            #expect(update["type"] as? String == "installationUpdate")
            #expect(update["action"] as? String == "add")
            #expect(update["id"] as? String == results[0]["id"] as? String)
            #expect((update["id"] as? String)?.hasPrefix("f:") == true)
            #expect(update["channelId"] as? String == "msteams")
            #expect(update["serviceUrl"] as? String == raw.emulator.inboundServiceUrl)
            #expect(update["locale"] as? String == "de-DE")
            #expect(update["localTimezone"] as? String == "America/New_York")
            #expect((update["timestamp"] as? String)?.hasSuffix("Z") == true)
            #expect((update["localTimestamp"] as? String)?.hasSuffix("Z") == false)
            let from = try #require(update["from"] as? [String: Any])
            #expect(from["id"] as? String == "29:1aad-ada")
            #expect(from["aadObjectId"] as? String == "aad-ada")
            #expect(from["name"] as? String == "Ada")
            #expect((update["recipient"] as? [String: Any])?["id"] as? String == "28:app-id")
            let conversation = try #require(update["conversation"] as? [String: Any])
            #expect(conversation["id"] as? String == conversationId)
            #expect(conversation["conversationType"] as? String == "personal")
            #expect(conversation["tenantId"] as? String == "tenant-1")
            #expect(conversation["isGroup"] == nil)
            let channelData = try #require(update["channelData"] as? [String: Any])
            #expect((channelData["tenant"] as? [String: Any])?["id"] as? String == "tenant-1")
            #expect(channelData["team"] == nil && channelData["eventType"] == nil)
            let entities = try #require(update["entities"] as? [[String: Any]])
            #expect(entities.first?["type"] as? String == "clientInfo")
            #expect(entities.first?["locale"] as? String == "de-DE")
            #expect(entities.first?["timezone"] as? String == "America/New_York")

            let members = received[1].json
            #expect(members["type"] as? String == "conversationUpdate")
            #expect(members["id"] as? String != update["id"] as? String)
            #expect((members["membersAdded"] as? [[String: Any]])?.map { $0["id"] as? String } == ["28:app-id"])
            #expect((members["conversation"] as? [String: Any])?["id"] as? String == conversationId)

            // The proactive 1:1 the bot opens later for the user is the same conversation.
            let token = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/teams/v3/conversations",
                body: #"{"members":[{"aadObjectId":"aad-ada"}],"tenantId":"tenant-1"}"#, token: token)
            #expect(created.json["id"] as? String == conversationId)
            let sent = try await raw.request(
                .POST, "/teams/v3/conversations/\(conversationId)/activities",
                body: #"{"type":"message","text":"welcome"}"#, token: token)
            #expect(sent.status == 201)
            #expect(raw.emulator.conversation(conversationId)?.activities.count == 1, "what the bot sent, only")

            let inbound = try await raw.request(.GET, "/emulator/inbound")
            let listed = try #require(inbound.json["activities"] as? [[String: Any]])
            #expect(listed.map { $0["id"] as? String } == results.map { $0["id"] as? String })
            #expect(listed.map { $0["status"] as? Int } == [200, 200])
        }
    }

    @Test("a team install names the team and its General channel, whose id is the team's; the bot can post there")
    func teamInstall() async throws {
        try await withEmulatorAndBot { raw, bot in
            let reply = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"team","action":"add","tenantId":"tenant-1","user":\#(Self.user),"#
                    + #""team":{"name":"Ops"}}"#)
            #expect(reply.status == 200)
            let teamId = try #require(reply.json["conversationId"] as? String)
            #expect(teamId.hasPrefix("19:") && teamId.hasSuffix("@thread.tacv2"))
            let received = bot.received
            #expect(received.map { $0.json["type"] as? String } == ["installationUpdate", "conversationUpdate"])
            #expect(received.allSatisfy { $0.verified == true })
            for activity in received.map(\.json) {
                let conversation = try #require(activity["conversation"] as? [String: Any])
                #expect(conversation["id"] as? String == teamId)
                #expect(conversation["conversationType"] as? String == "channel")
                #expect(conversation["isGroup"] as? Bool == true)
                let channelData = try #require(activity["channelData"] as? [String: Any])
                let team = try #require(channelData["team"] as? [String: Any])
                #expect(team["id"] as? String == teamId)
                #expect(team["name"] as? String == "Ops")
                #expect((channelData["channel"] as? [String: Any])?["id"] as? String == teamId)
            }
            let members = received[1].json
            #expect((members["channelData"] as? [String: Any])?["eventType"] as? String == "teamMemberAdded")
            #expect((members["membersAdded"] as? [[String: Any]])?.map { $0["id"] as? String } == ["28:app-id"])

            let token = try await raw.validToken()
            let path = "/teams/v3/conversations/\(teamId)/activities"
            let posted = try await raw.request(.POST, path, body: #"{"type":"message","text":"hi all"}"#, token: token)
            #expect(posted.status == 201)

            // Someone joins the team: only a conversationUpdate, with the user.
            let joined = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"team","action":"memberAdded","tenantId":"tenant-1","#
                    + #""user":{"aadObjectId":"aad-bob","name":"Bob"},"team":{"id":"\#(teamId)"}}"#)
            #expect(joined.status == 200)
            let join = try #require(bot.received.last?.json)
            #expect(bot.received.count == 3)
            #expect(join["type"] as? String == "conversationUpdate")
            #expect((join["membersAdded"] as? [[String: Any]])?.map { $0["id"] as? String } == ["29:1aad-bob"])
            #expect((join["channelData"] as? [String: Any])?["eventType"] as? String == "teamMemberAdded")
            let team = (join["channelData"] as? [String: Any])?["team"] as? [String: Any]
            #expect(team?["name"] as? String == "Ops", "the team's name is remembered")

            // The app is removed from the team: the bot is no longer in the roster there.
            let removed = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"team","action":"remove","tenantId":"tenant-1","user":\#(Self.user),"#
                    + #""team":{"id":"\#(teamId)"}}"#)
            let types = (removed.json["activities"] as? [[String: Any]])?.map { $0["type"] as? String }
            #expect(types == ["installationUpdate", "conversationUpdate"])
            let removal = try #require(bot.received.last?.json)
            #expect((removal["membersRemoved"] as? [[String: Any]])?.map { $0["id"] as? String } == ["28:app-id"])
            #expect((removal["channelData"] as? [String: Any])?["eventType"] as? String == "teamMemberRemoved")
            let refused = try await raw.request(.POST, path, body: #"{"type":"message","text":"hi"}"#, token: token)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "BotNotInConversationRoster")
        }
    }

    @Test("a group chat install posts to a groupChat conversation the bot can then send to")
    func groupChatInstall() async throws {
        try await withEmulatorAndBot { raw, bot in
            let reply = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"groupChat","action":"add","tenantId":"tenant-1","user":\#(Self.user)}"#)
            let chatId = try #require(reply.json["conversationId"] as? String)
            #expect(chatId.hasPrefix("19:") && chatId.hasSuffix("@thread.v2"))
            let received = bot.received.map(\.json)
            #expect(received.map { $0["type"] as? String } == ["installationUpdate", "conversationUpdate"])
            for activity in received {
                let conversation = activity["conversation"] as? [String: Any]
                #expect(conversation?["conversationType"] as? String == "groupChat")
                #expect(conversation?["isGroup"] as? Bool == true)
                #expect((activity["channelData"] as? [String: Any])?["team"] == nil)
            }
            #expect((received[1]["membersAdded"] as? [[String: Any]])?.first?["id"] as? String == "28:app-id")
            let token = try await raw.validToken()
            let sent = try await raw.request(
                .POST, "/teams/v3/conversations/\(chatId)/activities", body: #"{"type":"message","text":"hi"}"#,
                token: token)
            #expect(sent.status == 201)

            let message = try await raw.request(
                .POST, "/emulator/message",
                body: #"{"tenantId":"tenant-1","user":\#(Self.user),"text":"hello","conversationId":"\#(chatId)"}"#)
            #expect(message.status == 200)
            let posted = try #require(bot.received.last?.json)
            #expect(posted["type"] as? String == "message")
            #expect(posted["text"] as? String == "hello")
            #expect(posted["textFormat"] as? String == "plain")
            #expect((posted["conversation"] as? [String: Any])?["conversationType"] as? String == "groupChat")
        }
    }

    @Test("an upgrade is one installationUpdate with add-upgrade")
    func upgrade() async throws {
        try await withEmulatorAndBot { raw, bot in
            let reply = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"personal","action":"add","upgrade":true,"tenantId":"tenant-1","user":\#(Self.user)}"#)
            #expect(reply.status == 200)
            #expect(bot.received.map { $0.json["action"] as? String } == ["add-upgrade"])
        }
    }

    @Test("a personal uninstall makes later sends to the user 403 blocked; installing again lifts it")
    func personalUninstall() async throws {
        try await withEmulatorAndBot { raw, bot in
            let install = #"{"scope":"personal","tenantId":"tenant-1","user":\#(Self.user),"action":"#
            let added = try await raw.request(.POST, "/emulator/install", body: install + #""add"}"#)
            let conversationId = try #require(added.json["conversationId"] as? String)
            let removed = try await raw.request(.POST, "/emulator/install", body: install + #""remove"}"#)
            #expect(removed.json["conversationId"] as? String == conversationId)
            let removal = try #require(bot.received.last?.json)
            #expect((removal["membersRemoved"] as? [[String: Any]])?.first?["id"] as? String == "28:app-id")
            #expect(bot.received.dropLast().last?.json["action"] as? String == "remove")

            let token = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/teams/v3/conversations",
                body: #"{"members":[{"aadObjectId":"aad-ada"}],"tenantId":"tenant-1","#
                    + #""activity":{"type":"message","text":"still there?"}}"#, token: token)
            #expect(created.status == 403)
            let path = "/teams/v3/conversations/\(conversationId)/activities"
            let sent = try await raw.request(.POST, path, body: #"{"type":"message","text":"hi"}"#, token: token)
            #expect(sent.status == 403)
            #expect(sent.json["errorCode"] as? Int == 209, "the blocked answer")

            _ = try await raw.request(.POST, "/emulator/install", body: install + #""add"}"#)
            let again = try await raw.request(.POST, path, body: #"{"type":"message","text":"hi"}"#, token: token)
            #expect(again.status == 201)
        }
    }

    @Test("a bot answering 503 twice then 200 gets the identical activity three times")
    func retries() async throws {
        try await withEmulatorAndBot { raw, bot in
            bot.script([503, 503])
            let reply = try await raw.request(
                .POST, "/emulator/message", body: #"{"tenantId":"tenant-1","user":\#(Self.user),"text":"hi"}"#)
            let result = try #require((reply.json["activities"] as? [[String: Any]])?.first)
            #expect(result["status"] as? Int == 200)
            #expect(result["attempts"] as? Int == 3)
            let received = bot.received
            #expect(received.count == 3)
            #expect(Set(received.map(\.body)).count == 1, "the identical activity")
            #expect(received.allSatisfy { $0.json["id"] as? String == result["id"] as? String })
            let stats = raw.emulator.stats()
            #expect(stats.activitiesPosted == 3)
            #expect(stats.activityFailures == 0)
        }
    }

    @Test("a bot that keeps failing gets four attempts; 4xx are not retried; both count as failures")
    func failures() async throws {
        try await withEmulatorAndBot { raw, bot in
            bot.script([500, 429, 502, 503])
            let body = #"{"tenantId":"tenant-1","user":\#(Self.user),"text":"hi"}"#
            let failed = try await raw.request(.POST, "/emulator/message", body: body)
            let result = try #require((failed.json["activities"] as? [[String: Any]])?.first)
            #expect(result["status"] as? Int == 503)
            #expect(result["attempts"] as? Int == 4)

            // A token the bot must refuse: its 401 is returned, not retried.
            let refused = try await raw.request(
                .POST, "/emulator/message",
                body: #"{"tenantId":"tenant-1","user":\#(Self.user),"text":"hi","token":"hs256WithPublicKey"}"#)
            #expect(refused.status == 200)
            let answer = try #require((refused.json["activities"] as? [[String: Any]])?.first)
            #expect(answer["status"] as? Int == 401)
            #expect(answer["attempts"] as? Int == 1)
            #expect(bot.received.last?.verified == false)

            let stats = try await raw.request(.GET, "/emulator/stats")
            #expect(stats.json["activitiesPosted"] as? Int == 5)
            #expect(stats.json["activityFailures"] as? Int == 2)
            #expect(raw.emulator.postedActivities().map(\.status) == [503, 401])
        }
    }

    @Test("an unreachable bot is status 0 after four attempts")
    func unreachable() async throws {
        var configuration = EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .off)
        // A port nothing listens on: the test bot's, once it has stopped.
        configuration.botEndpoint = try await TestBot.withRunning { bot in bot.endpoint }
        try await withEmulator(configuration) { raw in
            // Through the Swift API: the four attempts may take longer than the raw client waits for an answer.
            let delivery = try await raw.emulator.message(
                TeamsMessage(tenantId: "tenant-1", user: TeamsUser(aadObjectId: "aad-ada"), text: "hi"))
            let result = try #require(delivery.activities.first)
            #expect(result.status == 0)
            #expect(result.attempts == 4)
            #expect(raw.emulator.stats().activityFailures == 1)
            #expect(raw.emulator.stats().activitiesPosted == 4)
        }
    }

    @Test("a raw activity is posted byte for byte, with the token kind and serviceurl claim asked for")
    func rawActivity() async throws {
        try await withEmulatorAndBot(verifying: false) { raw, bot in
            let activity = #"{"type":"message", "id":"x1","text":"<script>","n":1.50,"n":2,"serviceUrl":"https://e/"}"#
            let reply = try await raw.request(
                .POST, "/emulator/activity", body: #"{"token":"expired","activity":\#(activity)}"#)
            #expect(reply.status == 200)
            #expect(bot.received.first?.body == Array(activity.utf8))
            let result = (reply.json["activities"] as? [[String: Any]])?.first
            #expect(result?["id"] as? String == "x1")
            #expect(result?["type"] as? String == "message")
            let parts = try #require(bot.received.first?.token.flatMap(TokenParts.init))
            #expect(parts.payload["serviceurl"] as? String == "https://e/")
            #expect((parts.payload["exp"] as? Double ?? .infinity) < Date().timeIntervalSince1970)

            _ = try await raw.request(
                .POST, "/emulator/activity", body: #"{"activity":[1,2],"serviceUrlClaim":"https://claimed/"}"#)
            #expect(bot.received.last?.body == Array("[1,2]".utf8))
            let claimed = try #require(bot.received.last?.token.flatMap(TokenParts.init))
            #expect(claimed.payload["serviceurl"] as? String == "https://claimed/")

            _ = try await raw.request(.POST, "/emulator/activity", body: #"{"rawBody":"{not json"}"#)
            #expect(bot.received.last?.body == Array("{not json".utf8))
        }
    }

    @Test("bad input is a 400 naming the problem; without a bot endpoint the drive endpoints answer 409")
    func badInput() async throws {
        try await withEmulatorAndBot { raw, bot in
            let cases: [(String, String, String)] = [
                ("install", "not json", "JSON object"),
                ("install", #"{"scope":"meeting","action":"add","tenantId":"t","user":\#(Self.user)}"#, "scope"),
                ("install", #"{"scope":"team","action":"join","tenantId":"t","user":\#(Self.user)}"#, "action"),
                ("install", #"{"scope":"team","action":"add","user":\#(Self.user)}"#, "tenantId"),
                ("install", #"{"scope":"team","action":"add","tenantId":"t","user":{"name":"x"}}"#, "aadObjectId"),
                (
                    "install", #"{"scope":"personal","action":"memberAdded","tenantId":"t","user":\#(Self.user)}"#,
                    "team"
                ),
                (
                    "install", #"{"scope":"team","action":"add","tenantId":"t","user":\#(Self.user),"token":"bad"}"#,
                    "token"
                ),
                (
                    "install",
                    #"{"scope":"team","action":"add","tenantId":"t","user":\#(Self.user),"timeZone":"Mars"}"#,
                    "timeZone"
                ),
                ("install", #"{"scope":7,"action":"add","tenantId":"t","user":\#(Self.user)}"#, "scope"),
                ("message", #"{"tenantId":"t","user":\#(Self.user)}"#, "text"),
                ("activity", #"{"token":"valid"}"#, "activity"),
                ("activity", #"{"activity":{},"serviceUrlClaim":3}"#, "serviceUrlClaim"),
            ]
            for (endpoint, body, word) in cases {
                let reply = try await raw.request(.POST, "/emulator/\(endpoint)", body: body)
                #expect(reply.status == 400, "\(body)")
                let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains(word), "\(body): \(message)")
            }
            let unknown = try await raw.request(
                .POST, "/emulator/message",
                body: #"{"tenantId":"t","user":\#(Self.user),"text":"hi","conversationId":"19:nope@thread.v2"}"#)
            #expect(unknown.status == 404)
            #expect(bot.received.isEmpty)
        }
        try await withEmulator { raw in
            let body = #"{"scope":"personal","action":"add","tenantId":"t","user":\#(Self.user)}"#
            let reply = try await raw.request(.POST, "/emulator/install", body: body)
            #expect(reply.status == 409)
            #expect(reply.errorCode == "NoBotEndpoint")
            try await TestBot.withRunning { bot in
                let bad = try await raw.request(.POST, "/emulator/config", body: #"{"botEndpoint":"not a url"}"#)
                #expect(bad.status == 400)
                let set = try await raw.request(
                    .POST, "/emulator/config", body: #"{"botEndpoint":"\#(bot.endpoint)"}"#)
                #expect(set.status == 200)
                #expect(raw.emulator.configuration.botEndpoint == bot.endpoint)
                let delivered = try await raw.request(.POST, "/emulator/install", body: body)
                #expect(delivered.status == 200)
                #expect(bot.received.count == 2)
            }
        }
    }

    @Test("the Swift API drives the bot as the HTTP endpoints do")
    func swiftAPI() async throws {
        try await withEmulatorAndBot { raw, bot in
            let user = TeamsUser(aadObjectId: "aad-cy", name: "Cy")
            let delivery = try await raw.emulator.install(
                TeamsInstall(scope: .personal, action: .add, tenantId: "tenant-1", user: user))
            #expect(delivery.activities.map(\.type) == ["installationUpdate", "conversationUpdate"])
            #expect(delivery.activities.allSatisfy { $0.status == 200 && $0.attempts == 1 })
            let message = try await raw.emulator.message(TeamsMessage(tenantId: "tenant-1", user: user, text: "hi"))
            #expect(message.conversationId == delivery.conversationId)
            #expect(bot.received.allSatisfy { $0.verified == true })
            await #expect(throws: BotDriveError.self) {
                _ = try await raw.emulator.install(
                    TeamsInstall(scope: .personal, action: .memberAdded, tenantId: "tenant-1", user: user))
            }
        }
    }
}
