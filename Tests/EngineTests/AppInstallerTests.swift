import BotConnector
import Logging
import TeamsEmulator
import Testing

@testable import Engine

/// Proactive installation against the emulator's Microsoft Graph: one installation per new user, however many
/// deliveries ask for it at once.
@Suite("App installer")
struct AppInstallerTests {
    static let teamsAppId = "7b6a5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"

    @Test func concurrentDeliveriesForOneNewUserInstallOnceAndShareTheChat() async throws {
        var configuration = EmulatorConfiguration(appId: "app", appPassword: "secret", limits: .off)
        configuration.notInstalled = ["brand-new"]
        configuration.teamsAppId = Self.teamsAppId
        let logger = Logger(label: "installer-test", factory: { _ in SwiftLogNoOpLogHandler() })
        try await TeamsEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            let graph = GraphClient(
                configuration: .init(
                    appId: "app", appPassword: "secret", graphURL: "\(emulator.origin)/graph",
                    loginURL: emulator.origin, allowedHosts: [emulator.origin]),
                logger: logger)
            let installer = AppInstaller(
                graph: graph, teamsAppId: Self.teamsAppId, perTenantPerSecond: 5, logger: logger)
            let chats = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await installer.chat(userId: "brand-new", tenantId: "tenant-1").chatId }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(chats.count == 1, "every delivery got the same chat")
            #expect(emulator.stats().graphInstalls == 1, "one installation for fifty deliveries")
            // Later deliveries find it installed (409) and still get the chat.
            let again = try await installer.chat(userId: "brand-new", tenantId: "tenant-1")
            #expect(again.installed == false)
            #expect(chats.contains(again.chatId))
            try await graph.shutdown()
        }
    }
}
