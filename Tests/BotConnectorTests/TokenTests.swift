import BotConnector
import TeamsEmulator
import Testing

@Suite("OAuth2 client-credentials tokens")
struct TokenTests {
    @Test("a token that expires mid-run is refreshed by exactly one request however many sends wait")
    func refreshOnExpiryWithConcurrentSends() async throws {
        let clock = ManualClock()
        var configuration = EmulatorConfiguration.test()
        configuration.tokenLifetime = .seconds(60)
        try await withEmulator(configuration, now: clock.now) { emulator in
            try await withClient(for: emulator, now: clock.now) { client in
                let conversations = try await (1...50).asyncMap { try await chat(client, "29:1user\($0)") }
                #expect(emulator.stats().tokensIssued == 1)

                clock.advance(by: .seconds(61))
                try await withThrowingTaskGroup(of: String.self) { group in
                    for conversationId in conversations {
                        group.addTask {
                            try await client.sendActivity(
                                serviceUrl: nil, conversationId: conversationId, .text("after expiry"))
                        }
                    }
                    var sent = 0
                    for try await _ in group { sent += 1 }
                    #expect(sent == 50)
                }
                #expect(emulator.stats().tokensIssued == 2)
                #expect(emulator.stats().errors == 0)
            }
        }
    }

    @Test("a token the API refuses (401) is refreshed once and the call retried, once for all concurrent calls")
    func refreshAfter401() async throws {
        let emulatorClock = ManualClock()
        try await withEmulator(.test(), now: emulatorClock.now) { emulator in
            try await withClient(for: emulator) { client in
                let conversations = try await (1...50).asyncMap { try await chat(client, "29:1user\($0)") }
                // The emulator considers the token expired; the client still thinks it is fresh.
                emulatorClock.advance(by: .seconds(3601))
                try await withThrowingTaskGroup(of: String.self) { group in
                    for conversationId in conversations {
                        group.addTask {
                            try await client.sendActivity(
                                serviceUrl: nil, conversationId: conversationId, .text("after 401"))
                        }
                    }
                    var sent = 0
                    for try await _ in group { sent += 1 }
                    #expect(sent == 50)
                }
                #expect(emulator.stats().tokensIssued == 2)
                #expect(emulator.conversations().allSatisfy { $0.activities.count == 1 })
            }
        }
    }

    @Test("a token is refreshed ahead of expiry, within the refresh margin")
    func refreshAheadOfExpiry() async throws {
        let clock = ManualClock()
        var configuration = EmulatorConfiguration.test()
        configuration.tokenLifetime = .seconds(600)
        try await withEmulator(configuration, now: clock.now) { emulator in
            try await withClient(for: emulator, now: clock.now, configure: { $0.tokenRefreshMargin = .seconds(120) }) {
                client in
                let conversationId = try await chat(client)
                clock.advance(by: .seconds(470))
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("still fresh"))
                #expect(emulator.stats().tokensIssued == 1)
                clock.advance(by: .seconds(20))
                _ = try await client.sendActivity(serviceUrl: nil, conversationId: conversationId, .text("refreshed"))
                #expect(emulator.stats().tokensIssued == 2)
                #expect(emulator.stats().errors == 0)
            }
        }
    }

    @Test("a wrong secret is an unauthorized error that is not retried, and the secret is not in the message")
    func wrongSecret() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator, configure: { $0.appPassword = "not-the-secret" }) { client in
                let error = await botConnectorError { _ = try await chat(client) }
                #expect(error?.code == .unauthorized)
                #expect(error?.isRetryable == false)
                #expect(error?.httpStatus == 401)
                #expect(error.map { !"\($0)".contains("not-the-secret") } == true)
                #expect(emulator.stats().tokensIssued == 0)
            }
        }
    }

    /// Entra knows a single-tenant app only in its own directory: left on the default `botframework.com` tenant
    /// its token request is 400 `unauthorized_client` AADSTS700016, and the error says which setting fixes it.
    @Test("a single-tenant bot on the default tenant is refused as Entra does, and told to set bot.tenantId")
    func singleTenantBotOnTheDefaultTenant() async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.homeTenant = "contoso.onmicrosoft.com"
        try await withEmulator(configuration) { emulator in
            try await withClient(for: emulator) { client in
                let error = await botConnectorError { _ = try await chat(client) }
                #expect(error?.code == .unauthorized)
                #expect(error?.isRetryable == false)
                #expect(error?.httpStatus == 400)
                #expect(error?.message.contains("unauthorized_client: AADSTS700016") == true, "\(error?.message ?? "")")
                #expect(error?.message.contains("bot.tenantId") == true)
                #expect(error?.message.contains("Trace ID") == false, "one line: the description's first")
                #expect(emulator.stats().tokensIssued == 0)
            }
            try await withClient(
                for: emulator, configure: { $0.tokenURL = emulator.tokenURL(tenant: "contoso.onmicrosoft.com") }
            ) { client in
                _ = try await chat(client)
                #expect(emulator.stats().tokensIssued == 1, "its own tenant issues the token")
            }
        }
    }

    @Test("a wrong scope is refused by the token endpoint")
    func wrongScope() async throws {
        try await withEmulator { emulator in
            try await withClient(for: emulator, configure: { $0.scope = "https://management.azure.com/.default" }) {
                client in
                let error = await botConnectorError { _ = try await chat(client) }
                #expect(error?.code == .unauthorized)
                #expect(error?.message.contains("invalid_scope") == true)
            }
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
