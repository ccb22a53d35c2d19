import BotConnector
import Foundation
import Logging
import Store
import TeamsEmulator
import Testing

@testable import Engine

/// The directory resolver against the emulator's Microsoft Graph and a real SQLite store: one Graph request for
/// many deliveries that need the same person, answers and misses cached, and a permission missing for groups only
/// told apart from one for people.
@Suite("Directory resolver")
struct DirectoryResolverTests {
    static func withResolver(
        consentMissing: [String: Set<String>] = [:],
        _ body: (TeamsEmulator, DirectoryResolver) async throws -> Void
    ) async throws {
        var configuration = EmulatorConfiguration(appId: "app", appPassword: "secret", limits: .off)
        configuration.directoryUsers = [
            .init(id: "ada-id", userPrincipalName: "ada@contoso.com", mail: "ada.lovelace@contoso.com"),
            .init(id: "left-id", userPrincipalName: "left@contoso.com", accountEnabled: false),
        ]
        configuration.directoryGroups = ["g-eng": .init(users: ["ada-id", "left-id"])]
        configuration.directoryConsentMissing = consentMissing
        let logger = Logger(label: "directory-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await TeamsEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            let store = try await makeStore(url: "sqlite://\(folder.path)/herald.db", logger: logger)
            let storeTask = Task { try await store.run() }
            defer { storeTask.cancel() }
            try await store.migrate()
            try await withGraphClient(on: emulator, logger: logger) { graph in
                try await body(emulator, DirectoryResolver(graph: graph, store: store, logger: logger))
            }
        }
    }

    @Test func fiftyConcurrentDeliveriesForOnePersonAskGraphOnceAndLaterOnesAskTheCache() async throws {
        try await Self.withResolver { emulator, resolver in
            let found = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<50 {
                    // The same address in different cases is the same person.
                    let address = index.isMultiple(of: 2) ? "ada.lovelace@contoso.com" : "ADA.Lovelace@Contoso.com"
                    group.addTask { try await resolver.person(.email(address), tenantId: "t").user?.id }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(found.count == 50)
            #expect(found.allSatisfy { $0 == "ada-id" }, "every delivery got the person: \(Set(found))")
            #expect(emulator.stats().directoryReads == 1, "one Graph request for fifty deliveries")

            let later = try await resolver.person(.email("ada.lovelace@contoso.com"), tenantId: "T")
            #expect(later.fromCache, "a tenant id's case does not matter either")
            #expect(later.user == .init(id: "ada-id", accountEnabled: true))
            #expect(emulator.stats().directoryReads == 1)

            // A miss is cached too, and a disabled account keeps saying so.
            let nobody = try await resolver.person(.upn("nobody@contoso.com"), tenantId: "t")
            #expect(nobody.user == nil && !nobody.fromCache)
            let nobodyAgain = try await resolver.person(.upn("nobody@contoso.com"), tenantId: "t")
            #expect(nobodyAgain.user == nil && nobodyAgain.fromCache)
            let left = try await resolver.person(.upn("left@contoso.com"), tenantId: "t")
            #expect(left.user == .init(id: "left-id", accountEnabled: false))
            let leftAgain = try await resolver.person(.upn("left@contoso.com"), tenantId: "t")
            #expect(leftAgain.fromCache && leftAgain.user?.accountEnabled == false)
            #expect(emulator.stats().directoryReads == 3, "one request for the miss, one for the disabled account")

            // An operator's lookup without the cache asks Graph.
            let fresh = try await resolver.person(.email("ada.lovelace@contoso.com"), tenantId: "t", useCache: false)
            #expect(!fresh.fromCache && fresh.user?.id == "ada-id")
            #expect(emulator.stats().directoryReads == 4)
        }
    }

    @Test func aTenantMissingOnlyTheGroupPermissionStillResolvesPeople() async throws {
        try await Self.withResolver(consentMissing: ["t": ["GroupMember.Read.All"]]) { emulator, resolver in
            let ada = try await resolver.person(.upn("ada@contoso.com"), tenantId: "t")
            #expect(ada.user?.id == "ada-id", "User.Read.All was granted")
            var refusal: BotConnectorError?
            do {
                _ = try await resolver.groupPage(groupId: "g-eng", tenantId: "t", nextLink: nil)
            } catch let error as BotConnectorError {
                refusal = error
            }
            #expect(refusal?.code == .directoryConsentMissing)
            #expect(refusal.map { "\($0)" }?.contains("GroupMember.Read.All") == true, "\(String(describing: refusal))")
            // Believed for the tenant: the next group delivery fails without asking Graph again.
            let requests = emulator.stats().graphRequests
            await #expect(throws: BotConnectorError.self) {
                _ = try await resolver.groupPage(groupId: "g-eng", tenantId: "t", nextLink: nil)
            }
            #expect(emulator.stats().graphRequests == requests)
            // Another tenant is not affected.
            let page = try await resolver.groupPage(groupId: "g-eng", tenantId: "other", nextLink: nil)
            #expect(Set(page?.users.map(\.id) ?? []) == ["ada-id", "left-id"])
        }
    }
}
