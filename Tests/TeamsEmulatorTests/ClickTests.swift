import Foundation
import HeraldHTTP
import NIOCore
import Synchronization
import TeamsEmulator
import Testing

@Suite("The emulator pressing the buttons of the cards a bot sent, as Teams")
struct ClickTests {
    /// A button of each kind in each place a card can hold one: root actions, an ActionSet in a container, the
    /// card of an Action.ShowCard and a column's selectAction in it.
    static let card =
        #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Deploy 4.2 to production?"},"#
        + #"{"type":"Container","items":[{"type":"ActionSet","actions":[{"type":"Action.Execute","id":"details","#
        + #""verb":"details","title":"Details"}]}]}],"actions":[{"type":"Action.Execute","id":"approve-1","#
        + #""verb":"approve","title":"Approve","data":{"requestId":"r-7","approver":"aad-ada"}},"#
        + #"{"type":"Action.Submit","title":"Reject","data":{"verb":"reject","requestId":"r-7"}},"#
        + #"{"type":"Action.ShowCard","title":"More","card":{"type":"AdaptiveCard","body":[{"type":"ColumnSet","#
        + #""columns":[{"type":"Column","selectAction":{"type":"Action.Execute","verb":"column","title":"Open"},"#
        + #""items":[]}]}],"actions":[{"type":"Action.Submit","title":"Comment","data":{"verb":"comment"}}]}}]}"#
    static let question = "Deploy 4.2 to production?"
    static let cardAnswer =
        #"{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","value":{"type":"AdaptiveCard","#
        + #""version":"1.5","body":[{"type":"TextBlock","text":"Approved by Ada"}]}}"#

    @Test("Action.Execute: a signed invoke with the button's data under the client's; a card answer replaces the card")
    func executeWithCardAnswer() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            bot.answer(with: Self.answer(Self.cardAnswer))
            let reply = try await Self.click(
                raw,
                #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve","#
                    + #""data":{"approver":"aad-mallory","extra":true}"#)
            #expect(reply.status == 200)
            #expect(reply.json["activityId"] as? String == activityId)
            #expect(reply.json["conversationId"] as? String == conversationId)
            #expect(reply.json["type"] as? String == "invoke")
            #expect(reply.json["httpStatus"] as? Int == 200)
            #expect((reply.json["answer"] as? [String: Any])?["kind"] as? String == "card")
            #expect(Self.text(reply.json["card"]) == "Approved by Ada")

            let invoke = try #require(bot.received.last)
            #expect(invoke.verified == true)
            let activity = invoke.json
            #expect(activity["type"] as? String == "invoke")
            #expect(activity["name"] as? String == "adaptiveCard/action")
            #expect(activity["replyToId"] as? String == activityId)
            #expect(activity["id"] as? String == (reply.json["posted"] as? [String: Any])?["id"] as? String)
            #expect(activity["text"] == nil)
            let value = try #require(activity["value"] as? [String: Any])
            #expect(value["trigger"] as? String == "manual")
            let action = try #require(value["action"] as? [String: Any])
            #expect(action["type"] as? String == "Action.Execute")
            #expect(action["id"] as? String == "approve-1")
            #expect(action["verb"] as? String == "approve")
            let data = try #require(action["data"] as? [String: Any])
            #expect(data["requestId"] as? String == "r-7", "the button's own data")
            #expect(
                data["approver"] as? String == "aad-mallory", "what the client claims wins, as from a hostile client")
            #expect(data["extra"] as? Bool == true)
            let from = try #require(activity["from"] as? [String: Any])
            #expect(from["id"] as? String == "29:1aad-ada", "the chat's user presses it")
            #expect(from["aadObjectId"] as? String == "aad-ada")
            #expect(from["name"] as? String == "Ada")
            #expect((activity["recipient"] as? [String: Any])?["id"] as? String == "28:app-id")
            #expect(activity["channelId"] as? String == "msteams")
            #expect(activity["serviceUrl"] as? String == raw.emulator.inboundServiceUrl)
            let conversation = try #require(activity["conversation"] as? [String: Any])
            #expect(conversation["id"] as? String == conversationId)
            #expect(conversation["conversationType"] as? String == "personal")
            #expect(conversation["tenantId"] as? String == "tenant-1")
            let channelData = activity["channelData"] as? [String: Any]
            #expect((channelData?["tenant"] as? [String: Any])?["id"] as? String == "tenant-1")

            // What the user sees now is the bot's card: the buttons pressed are gone.
            #expect(Self.text(try await Self.storedCard(raw, conversationId, activityId)) == "Approved by Ada")
            #expect(raw.emulator.activity(activityId, in: conversationId)?.operation == .update)
            let again = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve""#)
            #expect(again.status == 404)
            #expect(Self.message(again).contains("no Action.Execute or Action.Submit"), "\(Self.message(again))")

            let stats = try await raw.request(.GET, "/emulator/stats")
            #expect(stats.json["clicks"] as? Int == 1)
            #expect((stats.json["clickAnswers"] as? [String: Any])?["card"] as? Int == 1)
            #expect(stats.json["activitiesUpdated"] as? Int == 1, "the replaced card is an update")
            let inbound = try await raw.request(.GET, "/emulator/inbound")
            #expect((inbound.json["activities"] as? [[String: Any]])?.last?["type"] as? String == "invoke")
        }
    }

    @Test("Action.Execute answered with a message: the user sees the text and the card stays")
    func executeWithMessageAnswer() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            bot.answer(
                with: Self.answer(
                    #"{"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":"Already done"}"#))
            let reply = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","title":"Approve""#)
            #expect(reply.status == 200)
            let answer = try #require(reply.json["answer"] as? [String: Any])
            #expect(answer["kind"] as? String == "message")
            #expect(answer["text"] as? String == "Already done")
            #expect(Self.text(reply.json["card"]) == Self.question)
            #expect(Self.text(try await Self.storedCard(raw, conversationId, activityId)) == Self.question)
            #expect(raw.emulator.activity(activityId, in: conversationId)?.operation == .send)
            #expect(raw.emulator.stats().activitiesUpdated == 0)
            #expect(raw.emulator.stats().clickAnswers.message == 1)
        }
    }

    @Test("Action.Execute answered with an error: the user sees its code and message, the card stays")
    func executeWithErrorAnswer() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            bot.answer(
                with: Self.answer(
                    #"{"statusCode":403,"type":"application/vnd.microsoft.error","#
                        + #""value":{"code":"Forbidden","message":"Only approvers can approve"}}"#))
            let reply = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve""#)
            #expect(reply.status == 200)
            let answer = try #require(reply.json["answer"] as? [String: Any])
            #expect(answer["kind"] as? String == "error")
            #expect(answer["statusCode"] as? Int == 403)
            let error = try #require(answer["error"] as? [String: Any])
            #expect(error["code"] as? String == "Forbidden")
            #expect(error["message"] as? String == "Only approvers can approve")
            #expect(Self.text(try await Self.storedCard(raw, conversationId, activityId)) == Self.question)
            #expect(raw.emulator.stats().clickAnswers.error == 1)
        }
    }

    @Test("answers Teams does not accept are invalid, posted once, and leave the card as it was")
    func invalidAnswers() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            let message = #""type":"application/vnd.microsoft.activity.message","value":"hi""#
            let cases: [(String, HTTPResponse, String)] = [
                (
                    "an HTML page",
                    HTTPResponse(
                        status: .ok, headers: ["content-type": "text/html"],
                        body: ByteBuffer(string: "<html><body>Bad gateway</body></html>")),
                    "not a JSON object"
                ),
                ("no statusCode", .json(.ok, "{\(message)}"), "statusCode"),
                ("an empty 200", HTTPResponse(status: .ok), "empty body"),
                ("a 500", .json(.internalServerError, #"{"statusCode":200,\#(message)}"#), "500"),
                (
                    "a card that is not an AdaptiveCard",
                    .json(
                        .ok,
                        #"{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","#
                            + #""value":{"type":"TextBlock","text":"x"}}"#),
                    "AdaptiveCard"
                ),
                (
                    "a card newer than Teams renders",
                    .json(
                        .ok,
                        #"{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","#
                            + #""value":{"type":"AdaptiveCard","version":"1.6","body":[]}}"#),
                    "1.5"
                ),
                (
                    "an error with statusCode 200",
                    .json(
                        .ok,
                        #"{"statusCode":200,"type":"application/vnd.microsoft.error","#
                            + #""value":{"code":"x","message":"y"}}"#),
                    "not an answer"
                ),
            ]
            let click = #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve""#
            for (name, response, word) in cases {
                bot.answer(with: { _ in response })
                let before = bot.received.count
                let reply = try await Self.click(raw, click)
                #expect(reply.status == 200, "\(name)")
                let answer = reply.json["answer"] as? [String: Any]
                #expect(answer?["kind"] as? String == "invalid", "\(name)")
                #expect((answer?["reason"] as? String)?.contains(word) == true, "\(name): \(answer ?? [:])")
                #expect(reply.json["httpStatus"] as? Int == Int(response.status.code), "\(name)")
                #expect(bot.received.count == before + 1, "\(name): an invoke is not retried")
                #expect(Self.text(reply.json["card"]) == Self.question, "\(name)")
            }
            // A token the bot refuses: its 401 is no answer either.
            let refused = try await Self.click(raw, click + #","token":"expired""#)
            #expect(refused.json["httpStatus"] as? Int == 401)
            #expect((refused.json["answer"] as? [String: Any])?["kind"] as? String == "invalid")
            #expect(bot.received.last?.verified == false)

            #expect(Self.text(try await Self.storedCard(raw, conversationId, activityId)) == Self.question)
            #expect(raw.emulator.stats().clickAnswers.invalid == cases.count + 1)
            #expect(raw.emulator.stats().activitiesUpdated == 0)
        }
    }

    @Test("a bot slower than the invoke timeout is a timeout, within the configured time, and the card stays")
    func slowBot() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            let set = try await raw.request(.POST, "/emulator/config", body: #"{"invokeTimeoutMs":200}"#)
            #expect(set.status == 200)
            #expect(raw.emulator.configuration.invokeTimeout == .milliseconds(200))
            let late = Gate()
            // Lets the bot's handler finish, so that the bot's server can shut down.
            defer { late.open() }
            bot.answer { _ in
                await late.wait()
                return .json(.ok, Self.cardAnswer)
            }
            let started = ContinuousClock.now
            let reply = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve""#)
            let waited = ContinuousClock.now - started
            #expect(reply.status == 200)
            #expect((reply.json["answer"] as? [String: Any])?["kind"] as? String == "timeout")
            #expect(reply.json["httpStatus"] as? Int == 0)
            #expect(waited >= .milliseconds(200))
            #expect(waited < .seconds(3), "the configured 200 ms, not Teams' 5 s")
            #expect(Self.text(reply.json["card"]) == Self.question)
            #expect(raw.emulator.stats().clickAnswers.timeout == 1)
            #expect(bot.received.count == 3, "two install activities and one invoke: not retried")
        }
    }

    @Test("Action.Submit: a message with the data as value and replyToId; the bot's PUT replaces the card")
    func submit() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            let token = try await raw.validToken()
            let rejected = #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Rejected"}]}"#
            let updated = Mutex<Int?>(nil)
            bot.answer { _ in
                // As a bot does: it updates the card through the Bot Connector, then acknowledges with an empty 200.
                let put = try? await raw.request(
                    .PUT, "/teams/v3/conversations/\(conversationId)/activities/\(activityId)",
                    body: Self.activity(rejected), token: token)
                updated.withLock { $0 = put?.status }
                return HTTPResponse(status: .ok)
            }
            let reply = try await Self.click(
                raw,
                #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","title":"Reject","#
                    + #""data":{"reason":"too late"}"#)
            #expect(reply.status == 200)
            #expect(reply.json["type"] as? String == "message")
            #expect(reply.json["httpStatus"] as? Int == 200)
            #expect((reply.json["answer"] as? [String: Any])?["kind"] as? String == "none")
            #expect(updated.withLock { $0 } == 200)
            #expect(Self.text(reply.json["card"]) == "Rejected", "the card after the click is the bot's update")
            #expect(Self.text(try await Self.storedCard(raw, conversationId, activityId)) == "Rejected")

            let message = try #require(bot.received.last)
            #expect(message.verified == true)
            #expect(message.json["type"] as? String == "message")
            #expect(message.json["replyToId"] as? String == activityId)
            #expect(message.json["text"] == nil)
            let value = try #require(message.json["value"] as? [String: Any])
            #expect(value["verb"] as? String == "reject")
            #expect(value["requestId"] as? String == "r-7")
            #expect(value["reason"] as? String == "too late")
            #expect((message.json["from"] as? [String: Any])?["id"] as? String == "29:1aad-ada")
            #expect(raw.emulator.stats().clickAnswers.none == 1)
        }
    }

    @Test("buttons are found wherever the card holds them, by verb, data.verb or title; both must match if given")
    func buttonsAnywhere() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            bot.answer { received in
                received.json["type"] as? String == "invoke"
                    ? .json(
                        .ok, #"{"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":"ok"}"#)
                    : HTTPResponse(status: .ok)
            }
            let target = #""conversationId":"\#(conversationId)","activityId":"\#(activityId)""#
            let nested = try await Self.click(raw, target + #","verb":"details""#)
            #expect(nested.json["type"] as? String == "invoke")
            #expect(Self.action(bot)?["id"] as? String == "details", "an ActionSet inside a Container")

            let column = try await Self.click(raw, target + #","title":"Open""#)
            #expect(column.json["type"] as? String == "invoke")
            #expect(Self.action(bot)?["verb"] as? String == "column", "a selectAction in a ShowCard's card")
            #expect(Self.action(bot)?.keys.contains("id") == false, "a button without an id has none")

            for fields in [#","title":"Comment""#, #","verb":"comment""#] {
                let comment = try await Self.click(raw, target + fields)
                #expect(comment.json["type"] as? String == "message", "\(fields)")
                #expect((bot.received.last?.json["value"] as? [String: Any])?["verb"] as? String == "comment")
            }
            let mismatch = try await Self.click(raw, target + #","verb":"approve","title":"Reject""#)
            #expect(mismatch.status == 404)
            #expect(raw.emulator.stats().clicks == 4)
        }
    }

    @Test(
        "unknown conversations, activities (deleted ones too) and buttons are 404 saying what is there; bad input 400")
    func notFound() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            let target = #""conversationId":"\#(conversationId)","activityId":"\#(activityId)""#
            let noButton = try await Self.click(raw, target + #","verb":"deploy""#)
            #expect(noButton.status == 404)
            #expect(noButton.errorCode == "NotFound")
            let listed = Self.message(noButton)
            for name in [#"verb "deploy""#, #"verb "approve""#, #"titled "Reject""#, #"verb "column""#, #""Comment""#] {
                #expect(listed.contains(name), "\(name) in: \(listed)")
            }

            let unknownChat = try await Self.click(
                raw, #""conversationId":"19:nope@thread.v2","activityId":"1","verb":"a""#)
            #expect(unknownChat.status == 404)
            #expect(Self.message(unknownChat).contains("19:nope@thread.v2"))
            let unknownActivity = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"42","verb":"approve""#)
            #expect(unknownActivity.status == 404)
            #expect(Self.message(unknownActivity).contains("42"))

            let token = try await raw.validToken()
            let text = try await raw.request(
                .POST, "/teams/v3/conversations/\(conversationId)/activities", body: #"{"type":"message","text":"hi"}"#,
                token: token)
            let textId = try #require(text.json["id"] as? String)
            let plain = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(textId)","verb":"approve""#)
            #expect(plain.status == 400)
            #expect(Self.message(plain).contains("Adaptive Card"))

            let badInput: [(String, String)] = [
                (#""conversationId":"\#(conversationId)","activityId":"\#(activityId)""#, "verb or title"),
                (target + #","verb":"approve","data":[1]"#, "data"),
                (target + #","verb":"approve","token":"forged""#, "token"),
                (#""activityId":"\#(activityId)","verb":"approve""#, "conversationId"),
                (target + #","verb":"approve","from":{"name":"Nobody"}"#, "from"),
            ]
            for (fields, word) in badInput {
                let reply = try await Self.click(raw, fields)
                #expect(reply.status == 400, "\(fields)")
                #expect(Self.message(reply).contains(word), "\(fields): \(Self.message(reply))")
            }

            let deleted = try await raw.request(
                .DELETE, "/teams/v3/conversations/\(conversationId)/activities/\(activityId)", token: token)
            #expect(deleted.status == 200)
            let gone = try await Self.click(raw, target + #","verb":"approve""#)
            #expect(gone.status == 404)
            #expect(Self.message(gone).contains("deleted"))
            let read = try await raw.request(.GET, "/emulator/conversations/\(conversationId)/activities/\(activityId)")
            #expect(read.status == 404)
            #expect(bot.received.count == 2, "the install's activities only")
            #expect(raw.emulator.stats().clicks == 0)
        }
        try await withEmulator { raw in
            // The bot opened the chat itself; without a bot endpoint nothing can be pressed.
            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1aad-dee"), token: try await raw.validToken()
            )
            let conversationId = try #require(created.json["id"] as? String)
            let activityId = try await Self.send(raw, card: Self.card, to: conversationId)
            let reply = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve""#)
            #expect(reply.status == 409)
            #expect(reply.errorCode == "NoBotEndpoint")
        }
    }

    @Test("from: a personal chat's user by default, required in group chats and channels, completed from one id")
    func from() async throws {
        try await withEmulatorAndBot { raw, bot in
            bot.answer(
                with: Self.answer(
                    #"{"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":"ok"}"#))
            let token = try await raw.validToken()
            // A 1:1 the bot opened itself, with no install: the emulator knows its member from the create.
            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1aad-dee"), token: token)
            let chat = try #require(created.json["id"] as? String)
            let inChat = try await Self.send(raw, card: Self.card, to: chat)
            let byDefault = try await Self.click(
                raw, #""conversationId":"\#(chat)","activityId":"\#(inChat)","verb":"approve""#)
            #expect(byDefault.status == 200)
            var from = bot.received.last?.json["from"] as? [String: Any]
            #expect(from?["id"] as? String == "29:1aad-dee")
            #expect(from?["aadObjectId"] as? String == "aad-dee")

            let group = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"groupChat","action":"add","tenantId":"tenant-1","user":{"aadObjectId":"aad-ada"}}"#)
            let groupId = try #require(group.json["conversationId"] as? String)
            let inGroup = try await Self.send(raw, card: Self.card, to: groupId)
            let target = #""conversationId":"\#(groupId)","activityId":"\#(inGroup)","verb":"approve""#
            let missing = try await Self.click(raw, target)
            #expect(missing.status == 400)
            #expect(Self.message(missing).contains("from"))
            let byBob = try await Self.click(raw, target + #","from":{"aadObjectId":"aad-bob","name":"Bob"}"#)
            #expect(byBob.status == 200)
            let invoke = try #require(bot.received.last?.json)
            from = invoke["from"] as? [String: Any]
            #expect(from?["id"] as? String == "29:1aad-bob")
            #expect(from?["name"] as? String == "Bob")
            #expect((invoke["conversation"] as? [String: Any])?["conversationType"] as? String == "groupChat")

            let team = try await raw.request(
                .POST, "/emulator/install",
                body: #"{"scope":"team","action":"add","tenantId":"tenant-1","user":{"aadObjectId":"aad-ada"},"#
                    + #""team":{"name":"Ops"}}"#)
            let teamId = try #require(team.json["conversationId"] as? String)
            let inTeam = try await Self.send(raw, card: Self.card, to: teamId)
            let byCy = try await Self.click(
                raw,
                #""conversationId":"\#(teamId)","activityId":"\#(inTeam)","verb":"approve","from":{"id":"29:1aad-cy"}"#)
            #expect(byCy.status == 200)
            let channelInvoke = try #require(bot.received.last?.json)
            #expect((channelInvoke["from"] as? [String: Any])?["aadObjectId"] as? String == "aad-cy")
            #expect((channelInvoke["conversation"] as? [String: Any])?["conversationType"] as? String == "channel")
            let channelData = channelInvoke["channelData"] as? [String: Any]
            #expect((channelData?["team"] as? [String: Any])?["id"] as? String == teamId)
            #expect((channelData?["team"] as? [String: Any])?["name"] as? String == "Ops")
            #expect((channelData?["channel"] as? [String: Any])?["id"] as? String == teamId)
        }
    }

    @Test("the Swift API clicks as the endpoint does; an unreachable bot is 502")
    func swiftAPI() async throws {
        try await withEmulatorAndBot { raw, bot in
            let (conversationId, activityId) = try await Self.cardToAda(raw)
            bot.answer(
                with: Self.answer(
                    #"{"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":"Noted"}"#))
            let result = try await raw.emulator.click(
                TeamsClick(
                    conversationId: conversationId, activityId: activityId, verb: "approve",
                    data: Array(#"{"approver":"aad-eve"}"#.utf8)))
            #expect(result.type == "invoke")
            #expect(result.answer == .message("Noted"))
            #expect(result.httpStatus == 200)
            #expect(result.posted.type == "invoke" && result.posted.attempts == 1)
            #expect(
                Self.text(result.card.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) }) == Self.question)
            let action = Self.action(bot)
            #expect((action?["data"] as? [String: Any])?["approver"] as? String == "aad-eve")
            let body = try #require(raw.emulator.activity(activityId, in: conversationId)?.body)
            #expect(String(decoding: body, as: UTF8.self).contains(Self.question))

            do throws(BotDriveError) {
                _ = try await raw.emulator.click(
                    TeamsClick(conversationId: conversationId, activityId: "42", verb: "x"))
                Issue.record("an unknown activity was clicked")
            } catch {
                #expect(error.status == 404)
            }

            // A port nothing listens on: a bot's, once it has stopped.
            let gone = try await TestBot.withRunning { stopped in stopped.endpoint }
            raw.emulator.updateConfiguration { $0.botEndpoint = gone }
            let unreachable = try await Self.click(
                raw, #""conversationId":"\#(conversationId)","activityId":"\#(activityId)","verb":"approve""#)
            #expect(unreachable.status == 502)
            #expect(unreachable.errorCode == "BotUnreachable")
            #expect(raw.emulator.stats().clicks == 2)
            #expect(raw.emulator.stats().clickAnswers.message == 1)
            #expect(raw.emulator.stats().clickAnswers.invalid == 0)
        }
    }

    // MARK: - Helpers

    /// Ada installs the app in her personal scope and the bot sends her `card`.
    static func cardToAda(_ raw: RawClient) async throws -> (conversationId: String, activityId: String) {
        let installed = try await raw.request(
            .POST, "/emulator/install",
            body: #"{"scope":"personal","action":"add","tenantId":"tenant-1","#
                + #""user":{"aadObjectId":"aad-ada","name":"Ada"}}"#)
        let conversationId = try #require(installed.json["conversationId"] as? String)
        return (conversationId, try await Self.send(raw, card: Self.card, to: conversationId))
    }

    /// Sends `card` as the bot does; the activity id.
    static func send(_ raw: RawClient, card: String, to conversationId: String) async throws -> String {
        let sent = try await raw.request(
            .POST, "/teams/v3/conversations/\(conversationId)/activities", body: Self.activity(card),
            token: try await raw.validToken())
        #expect(sent.status == 201)
        return try #require(sent.json["id"] as? String)
    }

    static func activity(_ card: String) -> String {
        #"{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":\#(card)}]}"#
    }

    static func click(_ raw: RawClient, _ fields: String) async throws -> RawClient.Reply {
        try await raw.request(.POST, "/emulator/click", body: "{\(fields)}")
    }

    static func answer(_ json: String) -> TestBot.Responder {
        { _ in .json(.ok, json) }
    }

    /// The card of an activity as the emulator holds it now, read back through the inspection API.
    static func storedCard(_ raw: RawClient, _ conversationId: String, _ activityId: String) async throws -> Any? {
        let reply = try await raw.request(.GET, "/emulator/conversations/\(conversationId)/activities/\(activityId)")
        #expect(reply.status == 200)
        #expect(reply.json["id"] as? String == activityId)
        let attachments = (reply.json["body"] as? [String: Any])?["attachments"] as? [[String: Any]]
        return attachments?.first?["content"]
    }

    /// The first TextBlock's text: what the card says.
    static func text(_ card: Any?) -> String? {
        ((card as? [String: Any])?["body"] as? [[String: Any]])?.first?["text"] as? String
    }

    static func message(_ reply: RawClient.Reply) -> String {
        (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    /// `value.action` of the last invoke the bot received.
    static func action(_ bot: TestBot) -> [String: Any]? {
        (bot.received.last?.json["value"] as? [String: Any])?["action"] as? [String: Any]
    }
}
