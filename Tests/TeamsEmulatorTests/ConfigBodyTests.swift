import Foundation
import Testing

@testable import TeamsEmulator

/// `herald demo` configures `herald emulator` in its own process with the whole configuration: what `configBody()`
/// writes, `POST /emulator/config` must read back to the same configuration.
@Suite("The emulator's configuration as a config body")
struct ConfigBodyTests {
    @Test func aConfigurationSurvivesTheTripThroughItsConfigBody() throws {
        var original = EmulatorConfiguration(
            appId: "app-id", appPassword: "secret", limits: .scaled(3),
            blocked: ["aad-b": .conversationBlockedByUser, "aad-c": .noSubCode],
            teams: ["19:t": [.init(id: "29:a", name: "Ada", aadObjectId: "aad-a"), .init(id: "29:b")]])
        original.latency = .milliseconds(7)
        original.faults.graph429 = 0.25
        original.faults.badGateway = 0.1
        original.notInstalled = ["aad-n"]
        original.teamTenants = ["19:t": "t-1"]
        original.teamsAppId = "catalog-id"
        original.graphConsentMissing = ["t-2"]
        original.appBlockedByPolicy = ["aad-p"]
        original.directoryUsers = [
            .init(
                id: "aad-a", userPrincipalName: "ada@contoso.com", mail: "ada.l@contoso.com",
                proxyAddresses: ["smtp:a@f.com"]),
            .init(id: "aad-x", userPrincipalName: "x@contoso.com", accountEnabled: false),
        ]
        original.directoryConsentMissing = ["t-3": ["GroupMember.Read.All"]]
        original.directoryGroups = ["g": .init(users: ["aad-a"], groups: ["g2"]), "g2": .init(users: ["aad-x"])]
        original.groupsRepeatMembers = true
        original.teamChannels = ["19:t": [.init(id: "19:t", name: nil), .init(id: "19:c", name: "Incidents")]]
        original.botEndpoint = "http://127.0.0.1:3978/api/messages"
        original.gccTenants = ["t-gcc"]
        original.movedTenants = ["t-moved": "http://127.0.0.1:1/emea/"]
        original.movedTenantAnswer = .redirect

        var read = EmulatorConfiguration(appId: "app-id", appPassword: "secret")
        try JSONDecoder().decode(ConfigUpdate.self, from: Data(original.configBody())).apply(to: &read)
        #expect(read.limits == original.limits)
        #expect(read.latency == original.latency)
        #expect(read.faults.graph429 == 0.25 && read.faults.badGateway == 0.1)
        #expect(read.blocked == original.blocked)
        #expect(read.notInstalled == original.notInstalled)
        #expect(read.teams == original.teams)
        #expect(read.teamTenants == original.teamTenants)
        #expect(read.teamsAppId == original.teamsAppId)
        #expect(read.graphConsentMissing == original.graphConsentMissing)
        #expect(read.appBlockedByPolicy == original.appBlockedByPolicy)
        #expect(read.directoryUsers == original.directoryUsers)
        #expect(read.directoryConsentMissing == original.directoryConsentMissing)
        #expect(read.directoryGroups == original.directoryGroups)
        #expect(read.groupsRepeatMembers)
        #expect(read.teamChannels == original.teamChannels)
        #expect(read.botEndpoint == original.botEndpoint)
        #expect(read.gccTenants == original.gccTenants)
        #expect(read.movedTenants == original.movedTenants)
        #expect(read.movedTenantAnswer == .redirect)
    }
}
