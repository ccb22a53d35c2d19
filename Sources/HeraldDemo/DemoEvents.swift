import Foundation
import Kafka
import Store
import TeamsEmulator

/// The demo's world: tenants, users, teams and channels, and a realistic mix of events about them.
package struct DemoWorld {
    package let events: Int
    package let recipients: Int
    package let tenants: Int
    /// Teams, each with an on-call conversation, a channel and a roster.
    package let teams: Int
    /// Members of each team's roster (the `teamMembers` broadcast).
    package let membersPerTeam = 8

    package init(events: Int, recipients: Int) {
        self.events = events
        self.recipients = recipients
        self.tenants = max(1, min(10, recipients / 20))
        // Every assigned ticket also notes the team's on-call chat, and one chat takes 60 messages per 30 s:
        // enough teams that no on-call chat gets more than about a hundred notes.
        self.teams = max(1, recipients / 10, events / 100)
    }

    package static func guid(_ kind: Int, _ index: Int) -> String {
        String(format: "%08x-0000-4000-8000-%012x", kind, index)
    }

    package func tenant(ofUser user: Int) -> String { Self.guid(0x7e4a47, user % tenants) }
    package func aadObjectId(_ user: Int) -> String { Self.guid(0xaad, user) }
    package func teamName(_ team: Int) -> String { "team\(team)" }
    package func teamId(_ team: Int) -> String { "19:demo-team-\(team)@thread.tacv2" }
    package func channelId(_ team: Int) -> String { "19:demo-channel-\(team)@thread.tacv2" }
    package func tenant(ofTeam team: Int) -> String { tenant(ofUser: team) }

    /// The user who is a team's `index`th member (0: its owner). A team's members are people of the team's own
    /// tenant, as in Teams, where the bot's chat with a member is in that tenant and counts against its limit.
    package func member(_ index: Int, ofTeam team: Int) -> Int {
        let tenant = team % tenants
        let usersOfTenant = (recipients - tenant + tenants - 1) / tenants
        return tenant + tenants * ((team / tenants * membersPerTeam + index) % usersOfTenant)
    }

    /// Every 40th recipient blocked the bot (both of Teams' error body shapes).
    package func isBlocked(_ user: Int) -> Bool { user % 40 == 7 }

    /// Every 25th recipient never installed the bot: Herald installs it for them through Microsoft Graph.
    package func neverInstalled(_ user: Int) -> Bool { user % 25 == 11 }

    /// A user's email address as the helpdesk knows it: their `mail`, which is not their UPN, so Herald finds them
    /// with Graph's address filter.
    package func email(_ user: Int) -> String { "user.\(user)@helpdesk-demo.example" }
    package func userPrincipalName(_ user: Int) -> String { "user\(user)@tenant\(user % tenants).onmicrosoft.example" }

    /// Each tenant's escalation group (an Entra ID group): its first five users, one of them through a nested group.
    package func escalationGroupId(ofTenant tenant: Int) -> String { Self.guid(0x6a0, tenant) }
    package func escalationGroup(ofTenant tenant: Int) -> [Int] {
        Array(stride(from: tenant, to: recipients, by: tenants).prefix(5))
    }

    /// The demo app's id in the organisation's app catalog (proactive installation).
    package static let teamsAppId = "d3e0a1b2-c4d5-4e6f-8a9b-0c1d2e3f4a5b"

    /// The emulator: Teams' real limits, blocked users, users who never installed the bot, team rosters.
    package func emulatorConfiguration(appId: String, appPassword: String) -> EmulatorConfiguration {
        var blocked: [String: EmulatorConfiguration.BlockShape] = [:]
        for user in 0..<recipients where isBlocked(user) {
            blocked[aadObjectId(user)] = user % 80 == 7 ? .messageWritesBlocked : .conversationBlockedByUser
        }
        var rosters: [String: [EmulatorConfiguration.Member]] = [:]
        for team in 0..<teams {
            rosters[teamId(team)] = (0..<membersPerTeam).map { index in
                let user = member(index, ofTeam: team)
                return EmulatorConfiguration.Member(
                    id: "29:demo-\(user)", name: "User \(user)", aadObjectId: aadObjectId(user))
            }
        }
        var configuration = EmulatorConfiguration(
            appId: appId, appPassword: appPassword, limits: .teams, blocked: blocked, teams: rosters)
        configuration.notInstalled = Set((0..<recipients).filter(neverInstalled).map(aadObjectId))
        configuration.teamsAppId = Self.teamsAppId
        configuration.directoryUsers = (0..<recipients).map { user in
            EmulatorConfiguration.DirectoryUser(
                id: aadObjectId(user), userPrincipalName: userPrincipalName(user), mail: email(user),
                proxyAddresses: ["SMTP:" + email(user)])
        }
        for tenant in 0..<tenants {
            let members = escalationGroup(ofTenant: tenant).map(aadObjectId)
            let nested = Self.guid(0x6a1, tenant)
            configuration.directoryGroups[escalationGroupId(ofTenant: tenant)] = .init(
                users: Array(members.dropLast()), groups: [nested])
            configuration.directoryGroups[nested] = .init(users: Array(members.suffix(1)))
        }
        return configuration
    }

    /// The stored references the example routes address by key: each team's on-call chat and the operators'.
    package func references(serviceUrl: String) -> [ConversationReference] {
        var references = (0..<teams).map { team in
            ConversationReference(
                key: "oncall-\(teamName(team))", conversationId: "a:demo-oncall-\(team)", serviceUrl: serviceUrl,
                tenantId: tenant(ofTeam: team), userId: "29:demo-oncall-\(team)", scope: .personal)
        }
        references.append(
            ConversationReference(
                key: "herald-operators", conversationId: "a:demo-operators", serviceUrl: serviceUrl,
                tenantId: tenant(ofUser: 0), userId: "29:demo-operators", scope: .personal))
        return references
    }

    /// A time zone where it is now mid-day (outside the example's 20:00-08:00 quiet hours), and one where
    /// it is night.
    package static func zones(now: Date) -> (day: String, night: String) {
        let hour =
            Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now).hour ?? 0
        func zone(localHour: Int) -> String {
            var offset = localHour - hour
            if offset > 14 { offset -= 24 }
            if offset < -12 { offset += 24 }
            // POSIX sign: Etc/GMT-3 is three hours ahead of UTC.
            return offset == 0 ? "UTC" : "Etc/GMT\(offset > 0 ? "-" : "+")\(abs(offset))"
        }
        return (zone(localHour: 12), zone(localHour: 23))
    }

    /// What the events should produce.
    package struct Expectation {
        package init() {}

        /// Outcomes (final or deferred) the run must publish.
        package var outcomes = 0
        package var byKind: [String: Int] = [:]

        package mutating func add(_ kind: String, events: Int = 1, outcomes: Int) {
            byKind[kind, default: 0] += events
            self.outcomes += outcomes
        }
    }

    /// The records to publish (key, value, headers) and what they should produce.
    package func records(now: Date) -> ([ProducerMessage], Expectation) {
        var generator = SystemRandomNumberGenerator()
        let zones = Self.zones(now: now)
        let time = ISO8601DateFormatter().string(from: now)
        var messages: [ProducerMessage] = []
        var expectation = Expectation()
        var openTickets: [(id: Int, user: Int)] = []
        func add(key: String, _ value: String) {
            messages.append(ProducerMessage(topic: "notifications", key: Array(key.utf8), value: Array(value.utf8)))
        }
        for index in 0..<events {
            let draw = Int.random(in: 0..<1000, using: &generator)
            let user = Int.random(in: 0..<recipients, using: &generator)
            let team = user % teams
            switch draw {
            case 0..<700:  // a ticket assigned: a card to the assignee, a note to the team's on-call chat
                let zone = draw < 14 ? zones.night : zones.day  // 2% of assignees are asleep: deferred
                add(key: "HD-\(index)", ticketAssigned(index, to: user, timeZone: zone, time: time))
                expectation.add("ticket assigned", outcomes: 2)
                if draw >= 14 { openTickets.append((index, user)) }
            case 700..<800 where !openTickets.isEmpty:  // an earlier ticket closed: its card is updated in place
                let ticket = openTickets.removeFirst()
                let data: [String: Any] = [
                    "id": "HD-\(ticket.id)", "actor": "Fox Mulder", "tenantId": tenant(ofUser: ticket.user),
                    "assignee": ["aadObjectId": aadObjectId(ticket.user)],
                ]
                add(
                    key: "HD-\(ticket.id)",
                    cloudEvent(
                        id: "closed-\(ticket.id)", type: "com.example.helpdesk.ticket.closed", source: "/helpdesk/eu-1",
                        time: time, data: data))
                expectation.add("ticket closed (update)", outcomes: 1)
            case 700..<850:  // a daily digest: a new thread in the team's channel
                let data: [String: Any] = [
                    "team": teamName(team), "date": String(time.prefix(10)), "teamId": teamId(team),
                    "channelId": channelId(team),
                    "tenantId": tenant(ofTeam: team), "overdue": 1,
                    "queueUrl": "https://helpdesk.example.com/queues/\(team)",
                    "tickets": [
                        ["id": "HD-\(index)", "title": "Printer jams", "assignee": "Dana Scully", "overdue": true]
                    ],
                ]
                add(
                    key: "digest-\(team)",
                    cloudEvent(
                        id: "digest-\(index)", type: "com.example.helpdesk.digest.daily", source: "/helpdesk/scheduler",
                        time: time, data: data))
                expectation.add("digest (channel thread)", outcomes: 1)
            case 850..<860:  // a monitoring alert (plain JSON): every member of the team
                let alert: [String: Any] = [
                    "type": "monitoring.alert", "eventId": "alert-\(index)", "service": "orders-db",
                    "severity": "critical",
                    "durationSeconds": 240, "runbookUrl": "https://wiki.example.com/runbooks/orders-db",
                    "teamId": teamId(team), "tenantId": tenant(ofTeam: team),
                ]
                add(key: "alert-\(team)", json(alert))
                expectation.add("alert (team broadcast)", outcomes: membersPerTeam)
            case 860..<870:  // another helpdesk event: the catch-all route, to the operators
                add(
                    key: "misc-\(index)",
                    cloudEvent(
                        id: "misc-\(index)", type: "com.example.helpdesk.ticket.commented", source: "/helpdesk/eu-1",
                        time: time, data: ["id": "HD-\(index)"]))
                expectation.add("other helpdesk (catch-all)", outcomes: 1)
            case 870..<890:  // an escalation: the assignee by email, and the tenant's escalation group
                let tenant = user % tenants
                let group = escalationGroup(ofTenant: tenant)
                let data: [String: Any] = [
                    "id": "HD-\(index)", "title": "Ticket \(index) is overdue", "tenantId": self.tenant(ofUser: user),
                    "assignee": ["email": email(user)], "escalationGroupId": escalationGroupId(ofTenant: tenant),
                ]
                add(
                    key: "HD-\(index)",
                    cloudEvent(
                        id: "escalated-\(index)", type: "com.example.helpdesk.ticket.escalated",
                        source: "/helpdesk/eu-1", time: time, data: data))
                // One message per person: the assignee may be in the group too.
                expectation.add("escalation (email + group)", outcomes: Set(group + [user]).count)
            case 890..<950:  // from a system no route knows: unroutable
                add(
                    key: "billing-\(index)",
                    cloudEvent(
                        id: "billing-\(index)", type: "com.example.billing.invoice.paid", source: "/billing",
                        time: time, data: ["invoice": index]))
                expectation.add("unroutable", outcomes: 1)
            default:  // malformed: dead-lettered
                let bad =
                    index % 2 == 0
                    ? "{\"specversion\": \"1.0\", \"id\": \(index), \"type\": [\"oops\"]}" : "<xml>not JSON</xml>"
                add(key: "bad-\(index)", bad)
                expectation.add("malformed", outcomes: 1)
            }
        }
        for (channel, failures) in ciBursts.enumerated() {
            let team = channel % teams
            for build in 0..<failures {
                let data: [String: Any] = [
                    "teamId": teamId(team), "channelId": channelId(team), "tenantId": tenant(ofTeam: team),
                    "pipeline": "main", "project": "service-\(build % 7)", "build": 1000 + build,
                    "reason": "integration test \(build % 11) failed", "failedAt": time,
                ]
                add(
                    key: "ci-\(team)",
                    cloudEvent(
                        id: "build-\(channel)-\(build)", type: "com.example.ci.build.failed", source: "/ci",
                        time: time, data: data))
                expectation.add("CI build failed (digest)", outcomes: 1)
            }
        }
        return (messages, expectation)
    }

    /// Failed builds per team channel, on top of the event mix: a noisy CI stream the example's digest route turns
    /// into one message per 25 (whole digests, so the demo need not wait out the 10-minute window).
    package var ciBursts: [Int] {
        Array(repeating: 50, count: max(1, min(teams, events / 500)))
    }

    /// Ticket `index` assigned to `user` (a card with buttons to them, a note to their team's on-call chat).
    package func ticketAssigned(_ index: Int, to user: Int, timeZone: String, time: String) -> String {
        var assignee: [String: Any] = ["aadObjectId": aadObjectId(user), "timeZone": timeZone]
        if let locale = helpdeskLocale(ofUser: user) { assignee["locale"] = locale }
        let data: [String: Any] = [
            "id": "HD-\(index)", "title": "Ticket \(index) needs attention",
            "priority": ["normal", "high", "urgent"][index % 3],
            "actor": "Dana Scully", "team": teamName(user % teams), "tenantId": tenant(ofUser: user),
            "assignee": assignee,
            "customer": [
                "name": "Contoso \(index % 97)", "url": "https://helpdesk.example.com/customers/\(index % 97)",
            ],
            "dueAt": time, "url": "https://helpdesk.example.com/tickets/HD-\(index)",
            "description": "Reported by a customer; see the ticket for details.",
        ]
        return cloudEvent(
            id: "assigned-\(index)", type: "com.example.helpdesk.ticket.assigned", source: "/helpdesk/eu-1", time: time,
            data: data)
    }

    private func cloudEvent(id: String, type: String, source: String, time: String, data: [String: Any]) -> String {
        json(["specversion": "1.0", "id": id, "type": type, "source": source, "time": time, "data": data])
    }

    private func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
