import Foundation
import TeamsEmulator
import Testing

@testable import BotConnector

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// People as upstream systems know them (a UPN, an email that is not the UPN), resolved through Microsoft Graph's
/// directory, against the emulator's.
@Suite("Microsoft Graph: finding a user by UPN or email")
struct DirectoryTests {
    static func configuration() -> EmulatorConfiguration {
        var configuration = GraphClientTests.configuration([])
        configuration.directoryUsers = [
            .init(id: "aad-ada", userPrincipalName: "ada@contoso.com", mail: "ada.lovelace@contoso.com"),
            .init(
                id: "aad-grace", userPrincipalName: "ghopper@contoso.com", mail: "grace@contoso.com",
                proxyAddresses: ["SMTP:grace@contoso.com", "smtp:g.hopper@fabrikam.com"]),
            .init(
                id: "aad-gone", userPrincipalName: "gone@contoso.com", mail: "gone@contoso.com", accountEnabled: false),
            .init(id: "aad-quote", userPrincipalName: "o'brien@contoso.com", mail: "o'brien@contoso.com"),
        ]
        return configuration
    }

    @Test func aUserIsFoundByUPNByMailAndByAProxyAddressAndADisabledAccountSaysSo() async throws {
        try await withEmulator(Self.configuration()) { emulator in
            try await GraphClientTests().withGraph(for: emulator) { graph in
                let ada = try await graph.directoryUser(.userPrincipalName("ADA@contoso.com"), tenantId: testTenant)
                #expect(ada == .init(id: "aad-ada", accountEnabled: true), "UPNs are case-insensitive")
                let byMail = try await graph.directoryUser(.email("ada.lovelace@contoso.com"), tenantId: testTenant)
                #expect(byMail?.id == "aad-ada", "an email that is not the UPN")
                let byAlias = try await graph.directoryUser(.email("g.hopper@fabrikam.com"), tenantId: testTenant)
                #expect(byAlias?.id == "aad-grace", "a proxy address")
                let disabled = try await graph.directoryUser(.email("gone@contoso.com"), tenantId: testTenant)
                #expect(disabled == .init(id: "aad-gone", accountEnabled: false))
                #expect(
                    try await graph.directoryUser(.userPrincipalName("nobody@contoso.com"), tenantId: testTenant) == nil
                )
                #expect(try await graph.directoryUser(.email("nobody@contoso.com"), tenantId: testTenant) == nil)
            }
        }
    }

    /// An address comes from event data: a quote in it stays inside the OData literal, and `%`, `&`, `#` stay
    /// inside the query parameter, so no value can widen the filter to someone else.
    @Test(arguments: [
        "x' or mail ne 'x", "%27 or true or %27", "ada.lovelace@contoso.com' or '1' eq '1", "a&$filter=mail ne 'x",
        "ada.lovelace@contoso.com#", "o'brien@contoso.com",
    ])
    func hostileAddressesCannotAlterTheFilter(_ address: String) async throws {
        try await withEmulator(Self.configuration()) { emulator in
            try await GraphClientTests().withGraph(for: emulator) { graph in
                let found = try await graph.directoryUser(.email(address), tenantId: testTenant)
                if address == "o'brien@contoso.com" {
                    #expect(found?.id == "aad-quote", "a quote in a real address still finds its owner")
                } else {
                    #expect(found == nil, "\(address) matched \(found?.id ?? "")")
                }
            }
        }
        #expect(GraphClient.odataLiteral("o'brien") == "'o''brien'")
    }

    @Test func aTenantWithoutUserReadAllConsentIsToldApartAndNamesThePermission() async throws {
        var configuration = Self.configuration()
        configuration.directoryConsentMissing = [testTenant: ["User.Read.All"]]
        try await withEmulator(configuration) { emulator in
            try await GraphClientTests().withGraph(for: emulator) { graph in
                for name in [GraphClient.DirectoryName.userPrincipalName("ada@contoso.com"), .email("ada@contoso.com")]
                {
                    let error = await #expect(throws: BotConnectorError.self) {
                        try await graph.directoryUser(name, tenantId: testTenant)
                    }
                    #expect(error?.code == .directoryConsentMissing)
                    #expect(error?.message.contains("User.Read.All") == true)
                    #expect(error?.message.contains(testTenant) == true)
                }
            }
        }
    }

    /// `herald emulator` in a process of its own is configured over HTTP: the directory too.
    @Test func theDirectoryCanBeSetThroughTheConfigEndpoint() async throws {
        try await withEmulator(GraphClientTests.configuration([])) { emulator in
            var request = URLRequest(url: URL(string: "\(emulator.origin)/emulator/config")!)
            request.httpMethod = "POST"
            request.httpBody = Data(
                #"{"directoryUsers":[{"id":"aad-lin","userPrincipalName":"lin@contoso.com","proxyAddresses":["smtp:lin@fabrikam.com"],"accountEnabled":false}],"directoryConsentMissing":{"other-tenant":["User.Read.All"]}}"#
                    .utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            try await GraphClientTests().withGraph(for: emulator) { graph in
                let lin = try await graph.directoryUser(.email("lin@fabrikam.com"), tenantId: testTenant)
                #expect(lin == .init(id: "aad-lin", accountEnabled: false))
                let error = await #expect(throws: BotConnectorError.self) {
                    try await graph.directoryUser(.userPrincipalName("lin@contoso.com"), tenantId: "other-tenant")
                }
                #expect(error?.code == .directoryConsentMissing)
            }
            var bad = request
            bad.httpBody = Data(#"{"directoryUsers":[{"id":"","userPrincipalName":"x@y"}]}"#.utf8)
            let (_, refused) = try await URLSession.shared.data(for: bad)
            #expect((refused as? HTTPURLResponse)?.statusCode == 400)
        }
    }

    @Test func aGroupIsReadPageByPageWithNestedGroupsAndANextLinkElsewhereIsRefused() async throws {
        var configuration = Self.configuration()
        configuration.directoryGroups = [
            "g-top": .init(users: (0..<7).map { "u\($0)" }, groups: ["g-nested"]),
            "g-nested": .init(users: ["u3", "u7", "aad-gone"]),
        ]
        try await withEmulator(configuration) { emulator in
            try await GraphClientTests().withGraph(for: emulator) { graph in
                var link: String?
                var users: [GraphClient.DirectoryUser] = []
                var pages = 0
                repeat {
                    let page = try #require(
                        try await graph.groupMembersPage(
                            groupId: "g-top", tenantId: testTenant, nextLink: link, pageSize: 3))
                    users += page.users
                    link = page.nextLink
                    pages += 1
                } while link != nil && pages < 10
                #expect(pages == 3)
                #expect(users.map(\.id) == ["u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "aad-gone"])
                #expect(users.last?.accountEnabled == false, "a disabled account is listed as disabled")
                #expect(try await graph.groupMembersPage(groupId: "g-missing", tenantId: testTenant) == nil)

                // The token goes to Graph only: a next link naming another host is not followed.
                let error = await #expect(throws: BotConnectorError.self) {
                    try await graph.groupMembersPage(
                        groupId: "g-top", tenantId: testTenant,
                        nextLink: "https://attacker.invalid/v1.0/groups/g-top/transitiveMembers?$skiptoken=x")
                }
                #expect(error?.code == .invalidResponse)
            }
        }
        var refusing = Self.configuration()
        refusing.directoryGroups = ["g-top": .init(users: ["u0"])]
        refusing.directoryConsentMissing = [testTenant: ["GroupMember.Read.All"]]
        try await withEmulator(refusing) { emulator in
            try await GraphClientTests().withGraph(for: emulator) { graph in
                let error = await #expect(throws: BotConnectorError.self) {
                    try await graph.groupMembersPage(groupId: "g-top", tenantId: testTenant)
                }
                #expect(error?.code == .directoryConsentMissing)
                #expect(error?.message.contains("GroupMember.Read.All") == true)
                // The people permission is still there: one permission missing is not the other.
                let ada = try await graph.directoryUser(.userPrincipalName("ada@contoso.com"), tenantId: testTenant)
                #expect(ada != nil)
            }
        }
    }
}
