import BotConnector
import Foundation
import TeamsEmulator
import Testing

@Suite("Conversations and activities against the emulator")
struct ConversationTests {
    @Test("text and card messages arrive in order with increasing ids and the card spliced in as sent")
    func sendsTextAndCards() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                #expect(conversationId.hasPrefix("a:"))
                let card =
                    #"{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Ticket \"42\""}]}"#
                let first = try await client.sendActivity(
                    serviceUrl: nil,
                    conversationId: conversationId,
                    .text("**Ticket 42** was assigned to you\nby Ada", summary: "Ticket 42 assigned", alert: true)
                )
                let second = try await client.sendActivity(
                    serviceUrl: nil,
                    conversationId: conversationId,
                    .adaptiveCard(json: Array(card.utf8), summary: "Card")
                )
                #expect(UInt64(second)! > UInt64(first)!)

                let recorded = try #require(emulator.conversation(conversationId))
                #expect(recorded.activities.map(\.id) == [first, second])
                let text = try json(recorded.activities[0].body)
                #expect(text["type"] as? String == "message")
                #expect(text["text"] as? String == "**Ticket 42** was assigned to you\nby Ada")
                #expect(text["textFormat"] as? String == "markdown")
                #expect(text["summary"] as? String == "Ticket 42 assigned")
                #expect(text["attachments"] == nil)
                let alert = ((text["channelData"] as? [String: Any])?["notification"] as? [String: Any])?["alert"]
                #expect(alert as? Bool == true)

                let cardActivity = try json(recorded.activities[1].body)
                #expect(cardActivity["text"] == nil)
                #expect(cardActivity["channelData"] == nil)
                let attachment = try #require((cardActivity["attachments"] as? [[String: Any]])?.first)
                #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
                let content = try #require(attachment["content"] as? [String: Any])
                let block = try #require((content["body"] as? [[String: Any]])?.first)
                #expect(block["text"] as? String == #"Ticket "42""#)
            }
        }
    }

    @Test("a 1:1 chat is created once per user, by Teams id or AAD object id")
    func createsChats() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let first = try await chat(client, "29:1ada")
                let again = try await chat(client, "29:1ada")
                let other = try await chat(client, "29:1bob")
                #expect(first == again)
                #expect(first != other)
                let byObjectId = try await client.createConversation(
                    serviceUrl: nil,
                    ConversationParameters(
                        target: .userAADObjectId("6a1c0b2e-0000-4000-8000-000000000001"), tenantId: testTenant)
                )
                #expect(byObjectId.id.hasPrefix("a:"))
                #expect(emulator.stats().conversationsCreated == 3)
                #expect(emulator.conversation(first)?.tenantId == testTenant)
            }
        }
    }

    @Test("a roster member is the same chat by AAD object id and by Teams id, and blocking either id applies")
    func rosterIdentity() async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.teams["19:team@thread.tacv2"] = [
            EmulatorConfiguration.Member(id: "29:1ada", name: "Ada", aadObjectId: "aad-ada")
        ]
        configuration.blocked["aad-ada"] = .messageWritesBlocked
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator) { client in
                let byObjectId = try await client.createConversation(
                    serviceUrl: nil,
                    ConversationParameters(target: .userAADObjectId("aad-ada"), tenantId: testTenant)
                )
                let byId = try await chat(client, "29:1ada")
                #expect(byObjectId.id == byId)
                #expect(emulator.conversation(byId)?.userId == "29:1ada")
                let error = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: byId, .text("hi"))
                }
                #expect(error?.code == .messageWritesBlocked)
            }
        }
    }

    @Test("a channel thread is created with its first message and can be replied to")
    func createsChannelThreads() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let channel = "19:general0123@thread.tacv2"
                let created = try await client.createConversation(
                    serviceUrl: nil,
                    ConversationParameters(
                        target: .channel(id: channel), tenantId: testTenant, activity: .text("Deploy started"))
                )
                let activityId = try #require(created.activityId)
                #expect(created.id == "\(channel);messageid=\(activityId)")
                let reply = try await client.sendActivity(
                    serviceUrl: nil, conversationId: created.id, .text("Deploy done"))
                let thread = try #require(emulator.conversation(created.id))
                #expect(thread.isGroup)
                #expect(thread.activities.map(\.id) == [activityId, reply])
                #expect(try json(thread.activities[0].body)["text"] as? String == "Deploy started")

                let missingActivity = await botConnectorError {
                    _ = try await client.createConversation(
                        serviceUrl: nil,
                        ConversationParameters(target: .channel(id: channel), tenantId: testTenant)
                    )
                }
                #expect(missingActivity?.code == .badArgument)
            }
        }
    }

    @Test("update and delete act on the sent activity; unknown ids are 404s with Teams' codes")
    func updatesAndDeletes() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                let conversationId = try await chat(client)
                let id = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("v1"))
                let updated = try await client.updateActivity(
                    serviceUrl: nil, conversationId: conversationId, activityId: id, .text("v2"))
                #expect(updated == id)
                try await client.deleteActivity(serviceUrl: nil, conversationId: conversationId, activityId: id)

                let recorded = try #require(emulator.conversation(conversationId))
                #expect(recorded.activities.map(\.operation) == [.send, .update, .delete])
                #expect(try json(recorded.activities[1].body)["text"] as? String == "v2")
                #expect(recorded.liveActivityIds.isEmpty)

                let gone = await botConnectorError {
                    _ = try await client.updateActivity(
                        serviceUrl: nil, conversationId: conversationId, activityId: id, .text("v3"))
                }
                #expect(gone?.code == .activityNotFound)
                #expect(gone?.httpStatus == 404)
                #expect(gone?.isRetryable == false)

                let unknown = await botConnectorError {
                    _ = try await client.sendActivity(serviceUrl: nil, conversationId: "a:1nosuchthing", .text("hi"))
                }
                #expect(unknown?.code == .conversationNotFound)
                #expect(unknown?.teamsCode == "ConversationNotFound")
                #expect(unknown?.correlationId?.isEmpty == false)
            }
        }
    }

    @Test("pagedMembers follows continuation tokens to the last page")
    func pagedMembers() async throws {
        var configuration = EmulatorConfiguration.test()
        let team = "19:team0123@thread.tacv2"
        configuration.teams[team] = (1...5).map { EmulatorConfiguration.Member(id: "29:1m\($0)", name: "Member \($0)") }
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator) { client in
                let members = try await client.pagedMembers(serviceUrl: nil, conversationId: team, pageSize: 2)
                #expect(members.map(\.id) == (1...5).map { "29:1m\($0)" })
                #expect(members.first?.name == "Member 1")
                #expect(emulator.stats().apiRequests == 3)
                let page = try await client.membersPage(serviceUrl: nil, conversationId: team, pageSize: 10)
                #expect(page.members.count == 5)
                #expect(page.continuationToken == nil)
            }
        }
    }

    @Test("serviceUrls with and without a trailing slash and with any path prefix reach the API")
    func serviceUrlPrefixes() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator) { client in
                for serviceUrl in [
                    "\(emulator.origin)/teams/", "\(emulator.origin)/amer", "\(emulator.origin)/emea/",
                    "\(emulator.origin)", "\(emulator.origin)/",
                ] {
                    let created = try await client.createConversation(
                        serviceUrl: serviceUrl,
                        ConversationParameters(target: .user(id: "29:1prefix"), tenantId: testTenant)
                    )
                    _ = try await client.sendActivity(
                        serviceUrl: serviceUrl, conversationId: created.id, .text(serviceUrl))
                }
                let texts = try emulator.conversations()[0].activities.map { try json($0.body)["text"] as? String }
                #expect(texts.count == 5)
                #expect(texts.last == "\(emulator.origin)/")
            }
        }
    }
}

func json(_ body: [UInt8]?) throws -> [String: Any] {
    let bytes = try #require(body)
    return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}
