import HeraldDemo
import Testing

@Suite("The demo's world")
struct DemoWorldTests {
    @Test(
        "a team's roster is people of the team's own tenant, so its broadcast counts against that tenant only",
        arguments: [(2000, 500), (400, 100), (300, 73)])
    func rostersStayInTheirTenant(events: Int, recipients: Int) {
        let world = DemoWorld(events: events, recipients: recipients)
        let configuration = world.emulatorConfiguration(appId: "app", appPassword: "secret")
        var tenantOfMember: [String: String] = [:]
        for user in 0..<recipients { tenantOfMember[world.aadObjectId(user)] = world.tenant(ofUser: user) }
        #expect(configuration.teams.count == world.teams)
        for team in 0..<world.teams {
            let roster = configuration.teams[world.teamId(team)] ?? []
            #expect(roster.count == world.membersPerTeam)
            #expect(Set(roster.map(\.id)).count == roster.count, "team \(team) lists nobody twice")
            for member in roster {
                let tenant = member.aadObjectId.flatMap { tenantOfMember[$0] }
                #expect(tenant == world.tenant(ofTeam: team), "team \(team), member \(member.id)")
            }
            #expect(roster.first?.aadObjectId == world.aadObjectId(world.member(0, ofTeam: team)), "the owner")
        }
    }
}
