import Foundation
import TeamsEmulator
import Testing

@Suite("The emulator's HTTP surface")
struct EmulatorHTTPTests {
    @Test("the token endpoint checks client id, secret and scope, under any tenant segment")
    func tokenEndpoint() async throws {
        try await withEmulator { raw in
            let good = try await raw.token()
            #expect(good.status == 200)
            #expect(good.json["token_type"] as? String == "Bearer")
            #expect(good.json["expires_in"] as? Int == 3600)
            #expect((good.json["access_token"] as? String)?.isEmpty == false)

            let badSecret = try await raw.token(secret: "wrong")
            #expect(badSecret.status == 401)
            #expect(badSecret.json["error"] as? String == "invalid_client")
            let badScope = try await raw.token(scope: "https://management.azure.com/.default")
            #expect(badScope.status == 400)
            #expect(badScope.json["error"] as? String == "invalid_scope")
            #expect(raw.emulator.stats().tokensIssued == 1)
        }
    }

    @Test("every API call needs a valid, unexpired bearer token")
    func bearerChecked() async throws {
        let clock = ManualClock()
        var configuration = EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .off)
        configuration.tokenLifetime = .seconds(5)
        try await withEmulator(configuration, now: clock.now) { raw in
            let missing = try await raw.request(.POST, "/teams/v3/conversations", body: createChatBody("29:1a"))
            #expect(missing.status == 401)
            let forged = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: "emu.forged")
            #expect(forged.status == 401)
            let token = try await raw.validToken()
            let ok = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: token)
            #expect(ok.status == 201)
            clock.advance(by: .seconds(5))
            let expired = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: token)
            #expect(expired.status == 401)
            #expect(raw.emulator.conversations().count == 1)
        }
    }

    @Test("bodies that break the Bot Connector schema get 400 BadArgument and are not recorded")
    func schemaValidation() async throws {
        try await withEmulator { raw in
            let token = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/amer/v3/conversations", body: createChatBody("29:1a"), token: token)
            let id = try #require(created.json["id"] as? String)
            let path =
                "/amer/v3/conversations/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)/activities"
            let invalidActivities = [
                "not json",
                #"["message"]"#,
                #"{"text":"no type"}"#,
                #"{"type":"message"}"#,
                #"{"type":"message","text":42}"#,
                #"{"type":"shout","text":"x"}"#,
                #"{"type":"message","attachments":[{"content":{}}]}"#,
                #"{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.6"}}]}"#,
                #"{"type":"message","text":"x","channelData":{"notification":{"alert":"yes"}}}"#,
            ]
            for body in invalidActivities {
                let reply = try await raw.request(.POST, path, body: body, token: token)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.errorCode == "BadArgument", "\(body)")
            }
            let invalidCreates = [
                #"{"members":[{"id":"29:1a"}]}"#,
                #"{"members":[],"tenantId":"t"}"#,
                #"{"members":[{"id":"29:1a"},{"id":"29:1b"}],"tenantId":"t"}"#,
                #"{"isGroup":true,"tenantId":"t","channelData":{"channel":{"id":"19:c@thread.tacv2"}}}"#,
            ]
            for body in invalidCreates {
                let reply = try await raw.request(.POST, "/teams/v3/conversations", body: body, token: token)
                #expect(reply.status == 400, "\(body)")
            }
            let good = try await raw.request(.POST, path, body: #"{"type":"message","text":"hello"}"#, token: token)
            #expect(good.status == 201)
            #expect(raw.emulator.conversation(id)?.activities.count == 1)
            #expect(raw.emulator.stats().errors == invalidActivities.count + invalidCreates.count)
        }
    }

    @Test("text plus attachments is split into two messages with no id, as Teams does")
    func textAndAttachmentSplit() async throws {
        try await withEmulator { raw in
            let token = try await raw.validToken()
            let created = try await raw.request(.POST, "/v3/conversations", body: createChatBody("29:1a"), token: token)
            let id = try #require(created.json["id"] as? String)
            let both =
                #"{"type":"message","text":"hi","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.5"}}]}"#
            let reply = try await raw.request(.POST, "/v3/conversations/\(id)/activities", body: both, token: token)
            #expect(reply.status == 201)
            #expect(reply.json["id"] == nil)
            #expect(raw.emulator.conversation(id)?.activities.count == 2)
        }
    }

    @Test("bodies over 100 KB get 413 MessageSizeTooBig")
    func tooLarge() async throws {
        try await withEmulator { raw in
            let token = try await raw.validToken()
            let created = try await raw.request(.POST, "/v3/conversations", body: createChatBody("29:1a"), token: token)
            let id = try #require(created.json["id"] as? String)
            let text = String(repeating: "y", count: 100 * 1024)
            let reply = try await raw.request(
                .POST, "/v3/conversations/\(id)/activities",
                body: #"{"type":"message","text":"\#(text)"}"#, token: token)
            #expect(reply.status == 413)
            #expect(reply.errorCode == "MessageSizeTooBig")
        }
    }

    @Test("the inspection API lists conversations with their activities in order, stats, and takes config")
    func inspectionAPI() async throws {
        try await withEmulator { raw in
            let token = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: token)
            let id = try #require(created.json["id"] as? String)
            for text in ["one", "two"] {
                _ = try await raw.request(
                    .POST, "/teams/v3/conversations/\(id)/activities",
                    body: #"{"type":"message","text":"\#(text)"}"#, token: token)
            }
            let listing = try await raw.request(.GET, "/emulator/conversations")
            let conversations = try #require(listing.json["conversations"] as? [[String: Any]])
            #expect(conversations.count == 1)
            #expect(conversations[0]["id"] as? String == id)
            let activities = try #require(conversations[0]["activities"] as? [[String: Any]])
            #expect(activities.map { ($0["body"] as? [String: Any])?["text"] as? String } == ["one", "two"])
            #expect(activities.map { $0["operation"] as? String } == ["send", "send"])
            let ids = activities.compactMap { ($0["id"] as? String).flatMap(UInt64.init) }
            #expect(ids.count == 2 && ids[0] < ids[1])

            let config = try await raw.request(
                .POST, "/emulator/config",
                body: #"{"blocked":[{"id":"29:1a","shape":"conversationBlockedByUser"}],"limits":"scaled:2"}"#
            )
            #expect(config.status == 200)
            #expect(raw.emulator.configuration.limits == .scaled(2))
            let blocked = try await raw.request(
                .POST, "/teams/v3/conversations/\(id)/activities",
                body: #"{"type":"message","text":"three"}"#, token: token)
            #expect(blocked.status == 403)
            #expect(blocked.errorCode == "ConversationBlockedByUser")
            let badConfig = try await raw.request(.POST, "/emulator/config", body: #"{"limits":"fast"}"#)
            #expect(badConfig.status == 400)

            let stats = try await raw.request(.GET, "/emulator/stats").json
            #expect(stats["tokensIssued"] as? Int == 1)
            #expect(stats["activitiesSent"] as? Int == 2)
            #expect(stats["errors"] as? Int == 1)
            #expect(stats["throttled"] as? Int == 0)
        }
    }

    @Test("a tenant gets 50 requests per second across all its conversations; other tenants are not affected")
    func tenantLimit() async throws {
        let clock = ManualClock()
        let configuration = EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .teams)
        try await withEmulator(configuration, now: clock.now) { raw in
            let token = try await raw.validToken()
            for user in 1...50 {
                let reply = try await raw.request(
                    .POST, "/v3/conversations", body: createChatBody("29:1u\(user)"), token: token)
                #expect(reply.status == 201)
            }
            let over = try await raw.request(.POST, "/v3/conversations", body: createChatBody("29:1u51"), token: token)
            #expect(over.status == 429)
            #expect(over.errorCode == "Throttled")
            let otherTenant = try await raw.request(
                .POST, "/v3/conversations", body: createChatBody("29:1u51", tenantId: "tenant-2"), token: token)
            #expect(otherTenant.status == 201)
            clock.advance(by: .seconds(1))
            let later = try await raw.request(.POST, "/v3/conversations", body: createChatBody("29:1u52"), token: token)
            #expect(later.status == 201)
            #expect(raw.emulator.stats().throttled == 1)
        }
    }

    @Test("a user's 1:1 chat belongs to one tenant: asked again there, the same chat; from another tenant, another")
    func chatPerTenant() async throws {
        let clock = ManualClock()
        let configuration = EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .teams)
        try await withEmulator(configuration, now: clock.now) { raw in
            let token = try await raw.validToken()
            func chat(_ tenantId: String) async throws -> String? {
                let reply = try await raw.request(
                    .POST, "/v3/conversations", body: createChatBody("29:1guest", tenantId: tenantId), token: token)
                return reply.json["id"] as? String
            }
            let home = try #require(try await chat("tenant-1"))
            #expect(try await chat("tenant-1") == home)
            let guest = try #require(try await chat("tenant-2"))
            #expect(guest != home)
            // The guest's chat counts against tenant-2: tenant-1 has 48 of its 50 requests left this second.
            for user in 1...48 {
                let reply = try await raw.request(
                    .POST, "/v3/conversations", body: createChatBody("29:1u\(user)", tenantId: "tenant-1"), token: token
                )
                #expect(reply.status == 201)
            }
            let over = try await raw.request(
                .POST, "/v3/conversations", body: createChatBody("29:1u49", tenantId: "tenant-1"), token: token)
            #expect(over.status == 429)
            let guests = raw.emulator.conversations().filter { $0.userId == "29:1guest" }
            #expect(guests.map(\.tenantId).sorted() == ["tenant-1", "tenant-2"])
        }
    }
}
