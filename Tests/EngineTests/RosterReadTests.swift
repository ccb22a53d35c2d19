import BotConnector
import Foundation
import Logging
import RateLimiting
import TeamsEmulator
import Testing

@testable import Engine

/// A team fan-out's roster, read as Teams counts it: a page is a request of its own, in the team's member-read
/// windows (14/1 s, 16/2 s, 120/30 s, 3600/3600 s) and the tenant's 50 requests a second.
@Suite("Team rosters read page by page")
struct RosterReadTests {
    static let team = "19:big@thread.tacv2"
    static let tenant = "tenant-1"

    static func withClient(
        _ configuration: EmulatorConfiguration,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        _ body: (TeamsEmulator, BotConnectorClient) async throws -> Void
    ) async throws {
        let logger = Logger(label: "roster-test", factory: { _ in SwiftLogNoOpLogHandler() })
        try await TeamsEmulator.withRunning(configuration: configuration, logger: logger, now: now) { emulator in
            let client = BotConnectorClient(
                configuration: .init(
                    appId: "app", appPassword: "secret", tokenURL: emulator.tokenURL,
                    defaultServiceUrl: emulator.serviceUrl, allowedServiceHosts: [emulator.origin]),
                logger: logger)
            do {
                try await body(emulator, client)
            } catch {
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    /// Plays the worker's part for a roster read: the real rate governor before every request, the real client
    /// and the emulator with Teams' limits; the eleventh page's first request is refused 429.
    @Test func aFiveThousandMemberRosterIsReadOnePageAtATimeAndA429ResumesFromItsOwnPage() async throws {
        let members = (0..<5000).map { EmulatorConfiguration.Member(id: "29:m\($0)", aadObjectId: "m\($0)") }
        var configuration = EmulatorConfiguration(
            appId: "app", appPassword: "secret", limits: .teams, teams: [Self.team: members])
        configuration.teamTenants = [Self.team: Self.tenant]
        try await Self.withClient(configuration) { emulator, client in
            let settings = DeliveryMachine.Settings(
                worker: "w-1",
                retry: RetryPolicy(backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(200)), maxAttempts: 50),
                giveUpAfter: .seconds(3600), claimLease: .seconds(30), blockedRecheckAfter: .seconds(86_400),
                onUncertain: .fail, canInstall: false, defaultServiceUrl: emulator.serviceUrl)
            var machine = DeliveryMachine(
                item: DeliveryMachineTests.item(.teamMembers(teamId: Self.team, tenantId: Self.tenant)),
                settings: settings)
            var governor = RateGovernor(conversationWindows: [], tenantBudget: 50)
            var requested: [String?] = []
            var throttledAt: [Int] = []
            var reservations = 0
            var action = machine.next(after: .start, now: Date())
            var roster: [TeamsMember]?
            while roster == nil {
                switch action {
                case .checkServiceUrl:
                    action = machine.next(after: .serviceUrlChecked(nil), now: Date())
                case .waitForCapacity(let conversation, let tenant, let readsMembers):
                    #expect(readsMembers && conversation == Self.team && tenant == Self.tenant)
                    reservations += 1
                    let wait = governor.reserve(
                        conversation: conversation, tenant: tenant, readsMembers: true, now: .now)
                    try await Task.sleep(for: wait)
                    while let more = governor.confirm(tenant: tenant, now: .now) { try await Task.sleep(for: more) }
                    action = machine.next(after: .capacityReady, now: Date())
                case .request(.members(let team, let token), _):
                    requested.append(token)
                    if requested.count == 11 { emulator.updateConfiguration { $0.faults.throttled = 1 } }
                    do throws(BotConnectorError) {
                        let page = try await client.membersPage(
                            serviceUrl: nil, conversationId: team, continuationToken: token)
                        action = machine.next(after: .answered(.members(page)), now: Date())
                    } catch {
                        #expect(error.code == .throttled, "\(error)")
                        throttledAt.append(requested.count - 1)
                        action = machine.next(after: .failed(error), now: Date())
                    }
                case .retry(let after, _, _):
                    emulator.updateConfiguration { $0.faults.throttled = 0 }
                    try await Task.sleep(for: after)
                    action = machine.next(after: .waited, now: Date())
                case .fanOut(let fanned, let tenant):
                    #expect(tenant == Self.tenant)
                    roster = fanned
                default:
                    Issue.record("unexpected action \(action)")
                    return
                }
            }
            #expect(roster?.map(\.id) == members.map(\.id), "every member once, in roster order")
            let pages = 25  // 5,000 members, 200 a page
            #expect(requested.count == pages + throttledAt.count, "no page read twice but the refused ones")
            #expect(throttledAt.first == 10, "the eleventh request was refused")
            #expect(requested[10] != nil, "mid-roster: not the first page")
            for index in throttledAt {
                #expect(requested[index + 1] == requested[index], "a 429 on a page is retried from that page's token")
            }
            #expect(reservations == requested.count, "every page, retries included, waits for its own capacity")
            #expect(emulator.stats().memberReads == requested.count)
        }
    }

    /// Member reads count against the tenant's 50 requests a second, not only their team's windows: four teams
    /// of one tenant, 14 reads each at one instant (each team's window allows them), are 56 for a tenant allowed
    /// 50. The emulator's clock stands still, so "within a second" does not depend on this machine's speed.
    @Test func memberReadsCountAgainstTheTenantsBudget() async throws {
        let teams = (0..<4).map { "19:team-\($0)@thread.tacv2" }
        var configuration = EmulatorConfiguration(
            appId: "app", appPassword: "secret", limits: .teams,
            teams: Dictionary(uniqueKeysWithValues: teams.map { ($0, [EmulatorConfiguration.Member(id: "29:a")]) }))
        configuration.teamTenants = Dictionary(uniqueKeysWithValues: teams.map { ($0, Self.tenant) })
        let instant = ContinuousClock.now
        try await Self.withClient(configuration, now: { instant }) { emulator, client in
            var refused = 0
            for team in teams {
                for _ in 0..<14 {
                    do throws(BotConnectorError) {
                        _ = try await client.membersPage(serviceUrl: nil, conversationId: team)
                    } catch {
                        #expect(error.code == .throttled, "\(error)")
                        refused += 1
                    }
                }
            }
            #expect(refused == 6, "56 reads at one instant, 50 allowed for the tenant")
            #expect(emulator.stats().memberReads == 56)
        }
    }
}
