import Foundation
import TeamsEmulator
import Testing

private let graphScope = "https://graph.microsoft.com/.default"
private let teamsAppId = "00000000-0000-0000-0000-00000000a99a"

extension RawClient {
    /// A Microsoft Graph token issued for `tenantId` (Graph tokens are per tenant).
    fileprivate func graphToken(tenantId: String = tenant) async throws -> String {
        let form =
            "grant_type=client_credentials&client_id=app-id&client_secret=secret&scope="
            + (graphScope.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let reply = try await self.request(
            .POST, "/\(tenantId)/oauth2/v2.0/token", body: form, contentType: "application/x-www-form-urlencoded")
        return try #require(reply.json["access_token"] as? String)
    }

    fileprivate func install(_ userId: String, app: String = teamsAppId, token: String) async throws -> Reply {
        try await self.request(
            .POST, "/graph/v1.0/users/\(userId)/teamwork/installedApps",
            body: #"{"teamsApp@odata.bind":"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/\#(app)"}"#,
            token: token)
    }

    /// The user's installations of `app`, asked for the way Graph clients do (query percent-encoded).
    fileprivate func installedApps(_ userId: String, app: String = teamsAppId, token: String) async throws -> Reply {
        let filter = "teamsApp/id eq '\(app)'".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try await self.request(
            .GET, "/graph/v1.0/users/\(userId)/teamwork/installedApps?$expand=teamsApp&$filter=\(filter)",
            token: token)
    }

    fileprivate func chat(_ userId: String, installationId: String, token: String) async throws -> Reply {
        let installation = installationId.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try await self.request(
            .GET, "/graph/v1.0/users/\(userId)/teamwork/installedApps/\(installation)/chat", token: token)
    }

    /// The installations listed by `GET /emulator/installations`, as user id to installation id.
    fileprivate func listedInstallations() async throws -> [String: String] {
        let entries = try await self.request(.GET, "/emulator/installations").json["installations"]
        var out: [String: String] = [:]
        for entry in try #require(entries as? [[String: Any]]) {
            out[try #require(entry["userId"] as? String)] = try #require(entry["installationId"] as? String)
        }
        return out
    }
}

/// `POST v3/conversations` for a user known by AAD object id.
private func createChatBody(aadObjectId: String, tenantId: String = tenant) -> String {
    #"{"bot":{"id":"28:app-id"},"members":[{"aadObjectId":"\#(aadObjectId)"}],"tenantId":"\#(tenantId)"}"#
}

private func configuration(notInstalled: Set<String> = []) -> EmulatorConfiguration {
    EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .off, notInstalled: notInstalled)
}

private func graphMessage(_ reply: RawClient.Reply) -> String? {
    (reply.json["error"] as? [String: Any])?["message"] as? String
}

@Suite("Microsoft Graph: proactive app installation")
struct GraphInstallationTests {
    @Test("installing for a user without the bot opens the same 1:1 chat the Bot Connector then uses")
    func installThenMessage() async throws {
        try await withEmulator(configuration(notInstalled: ["aad-1"])) { raw in
            let connector = try await raw.validToken()
            let refused = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody(aadObjectId: "aad-1"), token: connector)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "ForbiddenOperationException")

            let graph = try await raw.graphToken()
            let before = try await raw.installedApps("aad-1", token: graph)
            #expect(before.status == 200)
            #expect((before.json["value"] as? [Any])?.isEmpty == true)

            let installed = try await raw.install("aad-1", token: graph)
            #expect(installed.status == 201)
            #expect(installed.body.isEmpty)
            let again = try await raw.install("aad-1", token: graph)
            #expect(again.status == 409)
            #expect(again.errorCode == "Conflict")
            #expect(graphMessage(again) == "App is already installed for this user.")

            let listing = try await raw.installedApps("aad-1", token: graph)
            #expect(listing.status == 200)
            let apps = try #require(listing.json["value"] as? [[String: Any]])
            #expect(apps.count == 1)
            let installationId = try #require(apps.first?["id"] as? String)
            #expect(!installationId.isEmpty)
            let app = try #require(apps.first?["teamsApp"] as? [String: Any])
            #expect(app["id"] as? String == teamsAppId)
            #expect(app["displayName"] as? String == "Herald")
            #expect(app["distributionMethod"] as? String == "organization")
            #expect(try await raw.listedInstallations() == ["aad-1": installationId])
            #expect(
                raw.emulator.graphInstallations() == [
                    GraphInstallation(userId: "aad-1", installationId: installationId)
                ])

            let chat = try await raw.chat("aad-1", installationId: installationId, token: graph)
            #expect(chat.status == 200)
            let chatId = try #require(chat.json["id"] as? String)
            let unknown = try await raw.chat("aad-1", installationId: "bm90LWFuLWluc3RhbGxhdGlvbg==", token: graph)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "NotFound")

            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody(aadObjectId: "aad-1"), token: connector)
            #expect(created.status == 201)
            #expect(created.json["id"] as? String == chatId)
            let sent = try await raw.request(
                .POST, "/teams/v3/conversations/\(chatId)/activities",
                body: #"{"type":"message","text":"welcome"}"#, token: connector)
            #expect(sent.status == 201)

            let listed = try await raw.request(.GET, "/emulator/conversations")
            let conversations = try #require(listed.json["conversations"] as? [[String: Any]])
            #expect(conversations.count == 1)
            #expect(conversations.first?["id"] as? String == chatId)
            #expect(conversations.first?["tenantId"] as? String == tenant)
            let activities = try #require(conversations.first?["activities"] as? [[String: Any]])
            #expect(activities.map { ($0["body"] as? [String: Any])?["text"] as? String } == ["welcome"])

            let stats = try await raw.request(.GET, "/emulator/stats").json
            #expect(stats["graphRequests"] as? Int == 6)
            #expect(stats["graphInstalls"] as? Int == 1)
            #expect(stats["graphThrottled"] as? Int == 0)
            #expect(stats["apiRequests"] as? Int == 3)
            #expect(stats["tokensIssued"] as? Int == 2)
        }
    }

    @Test("a user who had the bot all along: 409, and Graph finds a stable installation and the existing chat")
    func alreadyHadTheBot() async throws {
        try await withEmulator(configuration(notInstalled: ["aad-other"])) { raw in
            let connector = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody(aadObjectId: "aad-2"), token: connector)
            let conversationId = try #require(created.json["id"] as? String)

            let graph = try await raw.graphToken()
            let conflict = try await raw.install("aad-2", token: graph)
            #expect(conflict.status == 409)
            #expect(conflict.errorCode == "Conflict")

            let first = try await raw.installedApps("aad-2", token: graph)
            let second = try await raw.installedApps("aad-2", token: graph)
            let installationId = try #require((first.json["value"] as? [[String: Any]])?.first?["id"] as? String)
            #expect((second.json["value"] as? [[String: Any]])?.first?["id"] as? String == installationId)
            let otherApp = try await raw.installedApps(
                "aad-2", app: "11111111-1111-1111-1111-111111111111", token: graph)
            #expect(otherApp.status == 200)
            #expect((otherApp.json["value"] as? [Any])?.isEmpty == true)

            let chat = try await raw.chat("aad-2", installationId: installationId, token: graph)
            #expect(chat.json["id"] as? String == conversationId)
            #expect(raw.emulator.conversations().count == 1)
            #expect(try await raw.listedInstallations().isEmpty)
            #expect(raw.emulator.stats().graphInstalls == 0)
        }
    }

    @Test("an app that is not the configured one is 404; a body without teamsApp@odata.bind is 400")
    func wrongApp() async throws {
        try await withEmulator(configuration(notInstalled: ["aad-1"])) { raw in
            let graph = try await raw.graphToken()
            let wrong = try await raw.install("aad-1", app: "11111111-1111-1111-1111-111111111111", token: graph)
            #expect(wrong.status == 404)
            #expect(wrong.errorCode == "NotFound")
            let empty = try await raw.request(
                .POST, "/graph/v1.0/users/aad-1/teamwork/installedApps", body: "{}", token: graph)
            #expect(empty.status == 400)
            #expect(empty.errorCode == "BadRequest")

            let config = try await raw.request(
                .POST, "/emulator/config", body: #"{"teamsAppId":"11111111-1111-1111-1111-111111111111"}"#)
            #expect(config.status == 200)
            let renamed = try await raw.install("aad-1", app: "11111111-1111-1111-1111-111111111111", token: graph)
            #expect(renamed.status == 201)
            #expect(raw.emulator.stats().graphInstalls == 1)
        }
    }

    @Test(
        "tokens carry their audience: a Bot Connector token is refused by Graph and a Graph token by the Bot Connector")
    func audiences() async throws {
        try await withEmulator { raw in
            let connector = try await raw.validToken()
            let graph = try await raw.graphToken()
            let withConnectorToken = try await raw.installedApps("aad-1", token: connector)
            #expect(withConnectorToken.status == 401)
            #expect(withConnectorToken.errorCode == "InvalidAuthenticationToken")
            #expect(graphMessage(withConnectorToken) == "Access token validation failure. Invalid audience.")
            let withoutToken = try await raw.request(.GET, "/graph/v1.0/users/aad-1/teamwork/installedApps")
            #expect(withoutToken.status == 401)
            #expect(withoutToken.errorCode == "InvalidAuthenticationToken")

            let withGraphToken = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: graph)
            #expect(withGraphToken.status == 401)
            #expect(withGraphToken.json["message"] as? String == "Authorization has been denied for this request.")
            #expect(raw.emulator.conversations().isEmpty)

            let tokens = try await raw.request(.GET, "/emulator/tokens").json["tokens"] as? [String]
            #expect(Set(tokens ?? []) == [connector, graph])
        }
    }

    @Test("a tenant whose admin never consented gets 403 on every Graph call; other tenants are served")
    func consentMissing() async throws {
        try await withEmulator(configuration(notInstalled: ["aad-1"])) { raw in
            let config = try await raw.request(
                .POST, "/emulator/config", body: #"{"graphConsentMissing":["tenant-2"]}"#)
            #expect(config.status == 200)
            let unconsented = try await raw.graphToken(tenantId: "tenant-2")
            let install = try await raw.install("aad-1", token: unconsented)
            let listing = try await raw.installedApps("aad-1", token: unconsented)
            for reply in [install, listing] {
                #expect(reply.status == 403)
                #expect(reply.errorCode == "Forbidden")
                #expect(
                    graphMessage(reply)
                        == "Missing role permissions on the request. API requires one of "
                        + "'TeamsAppInstallation.ReadWriteForUser.All'."
                )
            }
            let consented = try await raw.graphToken(tenantId: "tenant-1")
            #expect(try await raw.install("aad-1", token: consented).status == 201)
        }
    }

    @Test("graph429 throttles Graph calls with Retry-After: 1, and the Bot Connector is unaffected")
    func throttled() async throws {
        try await withEmulator { raw in
            let config = try await raw.request(.POST, "/emulator/config", body: #"{"faults":{"graph429":1.0}}"#)
            #expect(config.status == 200)
            #expect(raw.emulator.configuration.faults.graph429 == 1.0)
            let graph = try await raw.graphToken()
            let reply = try await raw.installedApps("aad-1", token: graph)
            #expect(reply.status == 429)
            #expect(reply.errorCode == "TooManyRequests")
            #expect(reply.headers["retry-after"] == "1")

            let connector = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: connector)
            #expect(created.status == 201)
            let stats = raw.emulator.stats()
            #expect(stats.graphThrottled == 1)
            #expect(stats.throttled == 0)
            #expect(stats.graphRequests == 1)

            let invalid = try await raw.request(.POST, "/emulator/config", body: #"{"faults":{"graph429":2}}"#)
            #expect(invalid.status == 400)
        }
    }

    @Test("graph429 below 1 throttles that share of Graph calls exactly, spread evenly")
    func throttledShare() async throws {
        try await withEmulator { raw in
            let config = try await raw.request(.POST, "/emulator/config", body: #"{"faults":{"graph429":0.4}}"#)
            #expect(config.status == 200)
            let graph = try await raw.graphToken()
            var statuses: [Int] = []
            for _ in 0..<10 { statuses.append(try await raw.installedApps("aad-1", token: graph).status) }
            #expect(statuses.filter { $0 == 429 }.count == 4, "\(statuses)")
            #expect(!zip(statuses, statuses.dropFirst()).contains { $0 == 429 && $1 == 429 }, "spread: \(statuses)")
            #expect(raw.emulator.stats().graphThrottled == 4)
        }
    }

    @Test("Graph calls do not count against the Bot Connector's tenant limit")
    func outsideConnectorLimits() async throws {
        let clock = ManualClock()
        let configuration = EmulatorConfiguration(appId: "app-id", appPassword: "secret", limits: .teams)
        try await withEmulator(configuration, now: clock.now) { raw in
            let graph = try await raw.graphToken()
            for _ in 1...60 {
                #expect(try await raw.installedApps("aad-1", token: graph).status == 200)
            }
            let connector = try await raw.validToken()
            let created = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody("29:1a"), token: connector)
            #expect(created.status == 201)
        }
    }

    @Test("listing a user in notInstalled anew uninstalls what Graph installed")
    func uninstallThroughConfig() async throws {
        try await withEmulator(configuration(notInstalled: ["aad-1"])) { raw in
            let graph = try await raw.graphToken()
            #expect(try await raw.install("aad-1", token: graph).status == 201)
            _ = try await raw.request(.POST, "/emulator/config", body: #"{"notInstalled":[]}"#)
            _ = try await raw.request(.POST, "/emulator/config", body: #"{"notInstalled":["aad-1"]}"#)
            let listing = try await raw.installedApps("aad-1", token: graph)
            #expect((listing.json["value"] as? [Any])?.isEmpty == true)
            let connector = try await raw.validToken()
            let refused = try await raw.request(
                .POST, "/teams/v3/conversations", body: createChatBody(aadObjectId: "aad-1"), token: connector)
            #expect(refused.status == 403)
        }
    }
}
