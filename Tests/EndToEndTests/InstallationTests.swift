import ChildProcess
import Foundation
import TeamsEmulator
import Testing

/// Proactive installation: users who never installed the app are reached after Herald installs it for them
/// through Microsoft Graph (`bot.proactiveInstall`).
extension EndToEnd {
    @Suite("Proactive installation end to end", .serialized)
    struct InstallationTests {
        static let teamsAppId = "5a3e1c2b-7d4f-4e6a-9b8c-0d1e2f3a4b5c"
        static let bot = """
            proactiveInstall: true
            teamsAppId: "\(teamsAppId)"
            graphUrl: "$ORIGIN/graph"
            loginUrl: "$ORIGIN"
            """

        static func emulator(graph429: Double = 0) -> EmulatorConfiguration {
            var configuration = EmulatorConfiguration(
                appId: DeliveryRig.appId, appPassword: DeliveryRig.appPassword)
            configuration.notInstalled = ["new-user", "other-new-user", "nc-user"]
            configuration.teamsAppId = teamsAppId
            configuration.graphConsentMissing = ["t-noconsent"]
            configuration.faults.graph429 = graph429
            configuration.maxRecordedBodies = 1000
            return configuration
        }

        static func events(
            user: String, tenant: String, count: Int, from first: Int = 0
        ) -> [(key: String, value: String)] {
            (first..<(first + count)).map { seq in
                (
                    user,
                    DeliveryRig.event(
                        id: "\(user)-\(seq)", type: "test.notify", data: ["user": user, "tenant": tenant, "seq": seq])
                )
            }
        }

        @Test func aNewUserGetsTheAppInstalledOnceAndEveryMessageInOrder() async throws {
            let rig = try await DeliveryRig(emulator: Self.emulator(), bot: Self.bot)
            defer { Task { await rig.shutdown() } }
            try await rig.publish(
                Self.events(user: "new-user", tenant: "t1", count: 20)
                    + Self.events(user: "old-user", tenant: "t1", count: 5, from: 100)
                    + Self.events(user: "nc-user", tenant: "t-noconsent", count: 3, from: 200))
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let outcomes = try await rig.outcomes(finalCount: 28)
            let finals = outcomes.finalByDelivery.values.compactMap(\.first)
            #expect(finals.count == 28)
            let newUser = finals.filter { $0.eventId.hasPrefix("new-user-") }
            #expect(newUser.count == 20 && newUser.allSatisfy { $0.status == "delivered" }, "\(newUser.map(\.summary))")
            #expect(newUser.filter { $0.installedApp == true }.count == 1, "one delivery installed the app")
            let oldUser = finals.filter { $0.eventId.hasPrefix("old-user-") }
            #expect(oldUser.allSatisfy { $0.status == "delivered" && $0.installedApp == nil })
            let noConsent = finals.filter { $0.eventId.hasPrefix("nc-user-") }
            #expect(noConsent.map(\.summary) == Array(repeating: "failed/GraphConsentMissing", count: 3))

            let stats = try await rig.emulator.stats()
            #expect(stats.graphInstalls == 1, "a burst of events for one new user installs once")
            let conversation = try #require(
                try await rig.emulator.conversations().first { $0.activities.count == 20 }, "the new user's chat")
            #expect(sequenceNumbers(conversation) == Array(0..<20), "delivered in order")

            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(30)).status == 0)
            let consentLogs = worker.text(of: .stderr).components(
                separatedBy: "TeamsAppInstallation.ReadWriteForUser.All")
            #expect(consentLogs.count - 1 == 1, "the missing consent is logged once, not per delivery")
        }

        /// Teams as found in the field: the create for a user without the app answers a bare 403 (no code), Graph
        /// shows a new installation only a second later, and one user's app permission policy blocks the app.
        @Test func aBare403AndALaggingGraphStillReachNewUsersAndAPolicyBlocksOnlyItsUser() async throws {
            var emulator = Self.emulator()
            emulator.notInstalled = ["new-user", "other-new-user", "blocked-user"]
            emulator.notInstalledWithoutCode = true
            emulator.graphLag = .seconds(1)
            emulator.appBlockedByPolicy = ["blocked-user"]
            let rig = try await DeliveryRig(emulator: emulator, bot: Self.bot)
            defer { Task { await rig.shutdown() } }
            try await rig.publish(
                Self.events(user: "new-user", tenant: "t1", count: 3)
                    + Self.events(user: "blocked-user", tenant: "t1", count: 2, from: 100)
                    + Self.events(user: "other-new-user", tenant: "t1", count: 2, from: 200))
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let outcomes = try await rig.outcomes(finalCount: 7)
            let finals = outcomes.finalByDelivery.values.compactMap(\.first)
            func summaries(_ user: String) -> [String] {
                finals.filter { $0.eventId.hasPrefix(user + "-") }.map(\.summary)
            }
            #expect(summaries("new-user") == Array(repeating: "delivered", count: 3), "\(summaries("new-user"))")
            #expect(summaries("other-new-user") == Array(repeating: "delivered", count: 2))
            #expect(summaries("blocked-user") == Array(repeating: "failed/AppInstallBlocked", count: 2))
            #expect(try await rig.emulator.stats().graphInstalls == 2, "the tenant's other new users were installed")
            worker.terminate()
            #expect(await worker.exit(timeout: .seconds(30)).status == 0)
            #expect(!worker.text(of: .stderr).contains("TeamsAppInstallation.ReadWriteForUser.All"), "not a consent")
        }

        @Test func graphThrottlingIsRetriedAfterRetryAfter() async throws {
            // Six new users, three Graph calls each: two Graph calls in every five are answered 429, and each is
            // retried after its Retry-After until it goes through.
            var emulator = Self.emulator(graph429: 0.4)
            let users = (0..<6).map { "throttled-\($0)" }
            emulator.notInstalled = Set(users)
            let rig = try await DeliveryRig(emulator: emulator, bot: Self.bot)
            defer { Task { await rig.shutdown() } }
            try await rig.publish(
                users.enumerated().flatMap { index, user in
                    Self.events(user: user, tenant: "t\(index)", count: 2, from: index * 10)
                })
            let worker = try await rig.startWorker()
            defer { worker.kill() }
            let outcomes = try await rig.outcomes(finalCount: 12, timeout: .seconds(120))
            let finals = outcomes.finalByDelivery.values.compactMap(\.first)
            #expect(finals.count == 12 && finals.allSatisfy { $0.status == "delivered" }, "\(finals.map(\.summary))")
            let stats = try await rig.emulator.stats()
            #expect(stats.graphThrottled > 0, "Graph answered 429 at least once")
            #expect(stats.graphInstalls == 6)
            worker.terminate()
            _ = await worker.exit(timeout: .seconds(30))
        }
    }
}
