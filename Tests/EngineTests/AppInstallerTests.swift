import BotConnector
import Logging
import Synchronization
import TeamsEmulator
import Testing

@testable import Engine

/// Proactive installation against the emulator's Microsoft Graph: one installation per new user, however many
/// deliveries ask for it at once.
@Suite("App installer")
struct AppInstallerTests {
    static let teamsAppId = "7b6a5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"

    /// Runs `body` with an emulator whose Graph has not installed the app for `notInstalled`, and an installer
    /// (5 installations a second per tenant, the consent recheck on `clock`).
    static func withInstaller(
        notInstalled: Set<String>, consentMissing: Set<String> = [], blockedByPolicy: Set<String> = [],
        graphLag: Duration = .zero, settleWithin: Duration = .seconds(30),
        clock: any WorkerClock = ContinuousClock(),
        _ body: (TeamsEmulator, AppInstaller) async throws -> Void
    ) async throws {
        var configuration = EmulatorConfiguration(appId: "app", appPassword: "secret", limits: .off)
        configuration.notInstalled = notInstalled
        configuration.teamsAppId = Self.teamsAppId
        configuration.graphConsentMissing = consentMissing
        configuration.appBlockedByPolicy = blockedByPolicy
        configuration.graphLag = graphLag
        let logger = Logger(label: "installer-test", factory: { _ in SwiftLogNoOpLogHandler() })
        try await TeamsEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            try await withGraphClient(on: emulator, logger: logger) { graph in
                let installer = AppInstaller(
                    graph: graph, teamsAppId: Self.teamsAppId, perTenantPerSecond: 5, consentRecheck: .seconds(60),
                    settleWithin: settleWithin, clock: clock, logger: logger)
                try await body(emulator, installer)
            }
        }
    }

    @Test func concurrentDeliveriesForOneNewUserInstallOnceAndShareTheChat() async throws {
        try await Self.withInstaller(notInstalled: ["brand-new"]) { emulator, installer in
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
        }
    }

    @Test func aTenantWithoutConsentIsNotAskedAgainForEveryNewUserUntilTheRecheck() async throws {
        let clock = SkippingClock()
        try await Self.withInstaller(
            notInstalled: ["new-1", "new-2", "new-3", "new-4"], consentMissing: ["tenant-1"],
            clock: clock
        ) { emulator, installer in
            func code(_ user: String) async -> BotConnectorError.Code? {
                do {
                    _ = try await installer.chat(userId: user, tenantId: "tenant-1")
                    return nil
                } catch { return error.code }
            }
            #expect(await code("new-1") == .graphConsentMissing)
            let asked = emulator.stats().graphRequests
            #expect(asked > 0)
            for user in ["new-2", "new-3"] { #expect(await code(user) == .graphConsentMissing) }
            #expect(emulator.stats().graphRequests == asked, "within the recheck interval Graph is not asked again")

            // The admin consents; after the recheck interval the next new user is installed.
            emulator.updateConfiguration { $0.graphConsentMissing = [] }
            #expect(await code("new-4") == .graphConsentMissing, "still believed until the recheck")
            clock.advance(by: .seconds(61))
            #expect(await code("new-4") == nil, "asked again and installed")
            #expect(emulator.stats().graphInstalls == 1)
        }
    }

    /// Graph says 403 Forbidden both for a tenant without consent and for one user whose app permission policy
    /// blocks the app: the second is that user's problem, not the tenant's.
    @Test func aUserBlockedByAnAppPermissionPolicyFailsAloneAndTheTenantsOthersStillInstall() async throws {
        try await Self.withInstaller(
            notInstalled: ["blocked", "new-1", "new-2"], blockedByPolicy: ["blocked"]
        ) { emulator, installer in
            let refusal = await #expect(throws: BotConnectorError.self) {
                _ = try await installer.chat(userId: "blocked", tenantId: "tenant-1")
            }
            #expect(refusal?.code == .appInstallBlocked)
            #expect(refusal?.teamsCode == "AppInstallBlocked")
            #expect(refusal?.isRetryable == false)
            #expect(refusal?.message.contains("app permission policy") == true)
            for user in ["new-1", "new-2"] {
                let installation = try await installer.chat(userId: user, tenantId: "tenant-1")
                #expect(installation.installed, "\(user) is installed for in the same tenant")
            }
            #expect(emulator.stats().graphInstalls == 2)
            let again = await #expect(throws: BotConnectorError.self) {
                _ = try await installer.chat(userId: "blocked", tenantId: "tenant-1")
            }
            #expect(again?.code == .appInstallBlocked, "the blocked user is asked again, not believed forever")
        }
    }

    /// Graph is eventually consistent: right after a 201 the user's installed apps can be empty and the chat 404.
    /// The installer asks again until Graph shows them, within `settleWithin`.
    @Test func anInstallationGraphShowsLateIsLookedUpAgainUntilItAppears() async throws {
        try await Self.withInstaller(notInstalled: ["late"], graphLag: .milliseconds(1500)) { emulator, installer in
            let started = ContinuousClock.now
            let installation = try await installer.chat(userId: "late", tenantId: "tenant-1")
            #expect(installation.installed)
            #expect(!installation.chatId.isEmpty)
            #expect(ContinuousClock.now - started >= .milliseconds(1500), "it waited for Graph to catch up")
            // One install, one listing and one chat read, and each read Graph answered before the installation
            // showed made again. (How many there were depends on the machine: a read can already end past the
            // lag under load, so their number is not fixed.)
            let stats = emulator.stats()
            #expect(stats.graphRequests == 3 + stats.graphSettlingMisses, "\(stats.graphSettlingMisses) misses")
            #expect(stats.graphInstalls == 1, "looked up again, not installed again")
        }
    }

    @Test func anInstallationGraphNeverShowsFailsAfterTheSettleTime() async throws {
        try await Self.withInstaller(
            notInstalled: ["never"], graphLag: .seconds(600), settleWithin: .seconds(1)
        ) { emulator, installer in
            let started = ContinuousClock.now
            let error = await #expect(throws: BotConnectorError.self) {
                _ = try await installer.chat(userId: "never", tenantId: "tenant-1")
            }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("looked up") == true, "\(error?.message ?? "")")
            #expect(ContinuousClock.now - started < .seconds(20), "bounded by the settle time, not Graph's lag")
            #expect(emulator.stats().graphInstalls == 1)
        }
    }

    /// `perTenantPerSecond` is the group's: a worker with half the partitions starts a tenant's installations
    /// half as often, so the group together keeps to it (as it keeps to the Bot Connector budget).
    @Test func installationsArePacedAtThisWorkersShareOfTheTenantsRate() async throws {
        for (share, expected) in [(1.0, Duration.seconds(1)), (0.5, Duration.seconds(2))] {
            let clock = SkippingClock()
            let users = (0..<6).map { "paced-\($0)" }
            try await Self.withInstaller(notInstalled: Set(users), clock: clock) { emulator, installer in
                installer.setShare(share)
                let started = clock.now
                for user in users { _ = try await installer.chat(userId: user, tenantId: "tenant-1") }
                let elapsed = clock.now - started
                // Six starts, 5 a second for the group: five intervals of 1 / (5 × share) seconds.
                #expect(abs((elapsed - expected) / .milliseconds(1)) < 1, "share \(share): \(elapsed)")
                #expect(emulator.stats().graphInstalls == 6)
            }
        }
    }

    /// Graph's installation limits per app: 30 a second per tenant, 300 across tenants. The emulator's clock
    /// stands still, so every request falls in the same second however fast this machine is.
    @Test func theEmulatorsGraphRefusesInstallationsBeyondItsLimits() async throws {
        var configuration = EmulatorConfiguration(appId: "app", appPassword: "secret", limits: .teams)
        configuration.teamsAppId = Self.teamsAppId
        let logger = Logger(label: "installer-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let instant = ContinuousClock.now
        try await TeamsEmulator.withRunning(configuration: configuration, logger: logger, now: { instant }) {
            emulator in
            let graph = GraphClient(
                configuration: .init(
                    appId: "app", appPassword: "secret", graphURL: "\(emulator.origin)/graph",
                    loginURL: emulator.origin, allowedHosts: [emulator.origin]),
                logger: logger)
            func refusals(tenant: String, count: Int) async -> [BotConnectorError] {
                var refused: [BotConnectorError] = []
                for index in 0..<count {
                    do {
                        _ = try await graph.installApp(
                            teamsAppId: Self.teamsAppId, userId: "u-\(index)", tenantId: tenant)
                    } catch { refused.append(error) }
                }
                return refused
            }
            let first = await refusals(tenant: "tenant-0", count: 31)
            #expect(first.count == 1, "30 a second for one tenant")
            #expect(first.first?.code == .throttled && first.first?.retryAfter == .seconds(1))
            var across = first.count
            for tenant in 1..<11 { across += await refusals(tenant: "tenant-\(tenant)", count: 30).count }
            #expect(across == 31, "310 asked at one instant, 300 allowed across tenants: \(across) refused")
            try await graph.shutdown()
        }
    }
}
