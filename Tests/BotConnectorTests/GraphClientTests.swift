import BotConnector
import Foundation
import Logging
import TeamsEmulator
import Testing

@Suite("Microsoft Graph: installing the app for a user, against the emulator")
struct GraphClientTests {
    static let teamsAppId = "0c1e2a3b-4d5e-6f70-8192-a3b4c5d6e7f8"

    static func configuration(_ notInstalled: Set<String> = ["aad-new"]) -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration.test()
        configuration.notInstalled = notInstalled
        configuration.teamsAppId = teamsAppId
        return configuration
    }

    func withGraph<T: Sendable>(
        for emulator: TeamsEmulator, allowed: [String]? = nil, _ body: (GraphClient) async throws -> T
    ) async throws -> T {
        let graph = GraphClient(
            configuration: .init(
                appId: testAppId, appPassword: testSecret, graphURL: "\(emulator.origin)/graph",
                loginURL: emulator.origin, allowedHosts: allowed ?? [emulator.origin], requestTimeout: .seconds(10)),
            logger: Logger(label: "test.graph"))
        do {
            let result = try await body(graph)
            try await graph.shutdown()
            return result
        } catch {
            try? await graph.shutdown()
            throw error
        }
    }

    @Test func aUserWhoNeverInstalledTheAppCanBeReachedAfterInstallingIt() async throws {
        try await withEmulator(Self.configuration()) { emulator in
            try await withClient(for: emulator) { client in
                let refused = await #expect(throws: BotConnectorError.self) {
                    try await client.createConversation(
                        serviceUrl: nil,
                        ConversationParameters(target: .userAADObjectId("aad-new"), tenantId: testTenant))
                }
                #expect(refused?.code == .forbiddenOperation)
                try await withGraph(for: emulator) { graph in
                    #expect(
                        try await graph.installationId(
                            teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant) == nil)
                    #expect(
                        try await graph.installApp(teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant)
                    )
                    #expect(
                        try await graph.installApp(teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant)
                            == false, "a second install is a 409: already installed")
                    let installation = try #require(
                        try await graph.installationId(
                            teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant))
                    let chat = try await graph.chatId(
                        userId: "aad-new", installationId: installation, tenantId: testTenant)
                    let id = try await client.sendActivity(serviceUrl: nil, conversationId: chat, .text("hello"))
                    #expect(try #require(emulator.conversation(chat)).activities.map(\.id) == [id])
                    let created = try await client.createConversation(
                        serviceUrl: nil,
                        ConversationParameters(target: .userAADObjectId("aad-new"), tenantId: testTenant))
                    #expect(created.id == chat, "the chat Graph names is the 1:1 conversation")
                }
            }
        }
    }

    @Test func aUserWhoHadTheAppIsAlreadyInstalled() async throws {
        try await withEmulator(Self.configuration()) { emulator in
            try await withGraph(for: emulator) { graph in
                let installedNow = try await graph.installApp(
                    teamsAppId: Self.teamsAppId, userId: "aad-old", tenantId: testTenant)
                #expect(installedNow == false, "409: the user had the app")
                let installation = try await graph.installationId(
                    teamsAppId: Self.teamsAppId, userId: "aad-old", tenantId: testTenant)
                #expect(installation != nil)
            }
        }
    }

    @Test func missingConsentIsGraphConsentMissingAndThrottlingCarriesRetryAfter() async throws {
        var configuration = Self.configuration()
        configuration.graphConsentMissing = [testTenant]
        try await withEmulator(configuration) { emulator in
            try await withGraph(for: emulator) { graph in
                let error = await #expect(throws: BotConnectorError.self) {
                    try await graph.installApp(teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant)
                }
                #expect(error?.code == .graphConsentMissing)
                #expect(error?.isRetryable == false)
                #expect(error?.message.contains("TeamsAppInstallation.ReadWriteForUser.All") == true)
            }
        }
        configuration = Self.configuration()
        configuration.faults.graph429 = 1
        try await withEmulator(configuration) { emulator in
            try await withGraph(for: emulator) { graph in
                let error = await #expect(throws: BotConnectorError.self) {
                    try await graph.installApp(teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant)
                }
                #expect(error?.code == .throttled)
                #expect(error?.isRetryable == true)
                #expect(error?.retryAfter == .seconds(1))
            }
        }
    }

    @Test func nothingGoesToAHostOffTheAllowListAndHostileIdsAreRefused() async throws {
        let listener = try await CountingListener()
        func graph(allowing allowed: [String]) -> GraphClient {
            GraphClient(
                configuration: .init(
                    appId: testAppId, appPassword: testSecret, graphURL: "http://127.0.0.1:\(listener.port)/graph",
                    loginURL: "http://127.0.0.1:\(listener.port)", allowedHosts: allowed),
                logger: Logger(label: "test.graph"))
        }
        let offList = graph(allowing: [])
        let error = await #expect(throws: BotConnectorError.self) {
            try await offList.installApp(teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: testTenant)
        }
        #expect(error?.code == .serviceUrlNotAllowed)
        let allowed = graph(allowing: ["http://127.0.0.1:\(listener.port)"])
        for tenant in ["../evil", "evil/oauth2", "", "a b", "x?y"] {
            let refused = await #expect(throws: BotConnectorError.self, "tenant \(tenant)") {
                try await allowed.installationId(teamsAppId: Self.teamsAppId, userId: "aad-new", tenantId: tenant)
            }
            #expect(refused?.code == .badArgument)
        }
        for user in ["", ".", ".."] {
            let refused = await #expect(throws: BotConnectorError.self, "user \(user)") {
                try await allowed.installApp(teamsAppId: Self.teamsAppId, userId: user, tenantId: testTenant)
            }
            #expect(refused?.code == .badArgument)
        }
        #expect(listener.counter.connections.load(ordering: .relaxed) == 0, "no connection was made")
        try await offList.shutdown()
        try await allowed.shutdown()
        try await listener.close()
    }
}
