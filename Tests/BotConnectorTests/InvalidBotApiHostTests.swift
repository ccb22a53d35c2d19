import BotConnector
import TeamsEmulator
import Testing

@Suite("GCC tenants reached through the public host")
struct InvalidBotApiHostTests {
    @Test("a GCC bot retries InvalidBotApiHost once on the GCC service URL and reports where the chat lives")
    func gccRetry() async throws {
        var configuration = EmulatorConfiguration.test()
        configuration.gccTenants = [testTenant]
        try await withEmulator(configuration) { emulator in
            let gccServiceUrl = "\(emulator.origin)/gcc/teams/"
            try await withClient(
                for: emulator,
                configure: {
                    $0.cloud = .gcc
                    $0.defaultServiceUrl = gccServiceUrl
                }
            ) { client in
                let created = try await client.createConversation(
                    serviceUrl: emulator.serviceUrl,
                    ConversationParameters(target: .user(id: "29:1gcc"), tenantId: testTenant)
                )
                #expect(created.serviceUrl == gccServiceUrl)
                _ = try await client.sendActivity(
                    serviceUrl: emulator.serviceUrl, conversationId: created.id, .text("x"))
                #expect(emulator.conversation(created.id)?.activities.count == 1)
                #expect(emulator.stats().errors == 2)
            }
            // Already on the host Teams would send it to: nowhere else to go.
            try await withClient(for: emulator, configure: { $0.gccServiceUrl = emulator.serviceUrl }) { client in
                let error = await botConnectorError { _ = try await chat(client, "29:1gcc") }
                #expect(error?.code == .invalidBotApiHost)
                #expect(error?.isRetryable == false)
                #expect(error?.recipientBlocked == false)
            }
        }
    }

    /// A public-cloud bot can have GCC tenants too: `InvalidBotApiHost` is retried once on the GCC host whatever
    /// the configured cloud, and the public cloud's allow-list lets the token go there.
    @Test("a public-cloud bot retries InvalidBotApiHost once on the GCC host, which its allow-list includes")
    func publicCloudGccRetry() async throws {
        let gccHost = try ServiceUrl(Cloud.gcc.defaultServiceUrl)
        #expect(ServiceHostAllowList(cloud: .public, extras: []).allows(gccHost))
        var configuration = EmulatorConfiguration.test()
        configuration.gccTenants = [testTenant]
        try await withEmulator(configuration) { emulator in
            let gccServiceUrl = "\(emulator.origin)/gcc/teams/"
            try await withClient(for: emulator, configure: { $0.gccServiceUrl = gccServiceUrl }) { client in
                #expect(client.configuration.cloud == .public)
                let created = try await client.createConversation(
                    serviceUrl: emulator.serviceUrl,
                    ConversationParameters(target: .user(id: "29:1gcc"), tenantId: testTenant))
                #expect(created.serviceUrl == gccServiceUrl, "the conversation's serviceUrl is the GCC one")
                #expect(emulator.stats().errors == 1, "one refusal, then the GCC host answered")
            }
        }
    }
}
