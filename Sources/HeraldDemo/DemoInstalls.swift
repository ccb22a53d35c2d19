import Foundation
import Store
import TeamsEmulator

/// The demo's first act: users and teams install the app in Teams (the emulator), which tells the gateway; the
/// gateway publishes their references and `herald.teams.app.installed` events, and the example's welcome routes
/// answer them.
extension DemoWorld {
    /// Users who install the app themselves: every tenth, unless they blocked the bot or never installed it (those
    /// stay as they are: blocked, or installed for through Microsoft Graph). At most 100.
    package var installingUsers: [Int] {
        Array((0..<recipients).filter { $0 % 10 == 3 && !isBlocked($0) && !neverInstalled($0) }.prefix(100))
    }

    package struct Installs {
        package init() {}

        package var personal = 0
        package var teams = 0
        /// Activities the gateway answered 200, of those Teams sent.
        package var accepted = 0
        package var sent = 0
        /// The reference keys the gateway publishes for the installs Teams accepted.
        package var keys: [String] = []
        /// The conversations the app was installed in (a team's: its General channel).
        package var conversations: Set<String> = []

        package var welcomes: Int { personal + teams }
    }

    /// Installs the app for ``installingUsers`` and in every team, through the emulator, 16 at a time.
    package func install(through emulator: some DemoTeams) async throws -> Installs {
        var requests = installingUsers.map { user in
            TeamsInstall(
                scope: .personal, action: .add, tenantId: tenant(ofUser: user),
                user: TeamsUser(aadObjectId: aadObjectId(user), name: "User \(user)"), locale: teamsLocale(ofUser: user)
            )
        }
        requests += (0..<teams).map { team in
            let owner = member(0, ofTeam: team)
            return TeamsInstall(
                scope: .team, action: .add, tenantId: tenant(ofTeam: team),
                user: TeamsUser(aadObjectId: aadObjectId(owner), name: "User \(owner)"),
                team: .init(id: teamId(team), name: teamName(team)))
        }
        let deliveries = try await withThrowingTaskGroup(of: [(TeamsInstall, DemoInstall)].self) { group in
            for lane in 0..<16 {
                let mine = stride(from: lane, to: requests.count, by: 16).map { requests[$0] }
                group.addTask {
                    var done: [(TeamsInstall, DemoInstall)] = []
                    for request in mine {
                        do {
                            done.append((request, try await emulator.install(request)))
                        } catch {
                            throw DemoError("installing the app in the emulator failed: \(error)")
                        }
                    }
                    return done
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        var installs = Installs()
        for (request, delivery) in deliveries {
            let accepted = delivery.statuses.allSatisfy { $0 == 200 }
            installs.sent += delivery.statuses.count
            installs.accepted += delivery.statuses.filter { $0 == 200 }.count
            guard accepted else { continue }
            installs.conversations.insert(delivery.conversationId)
            let tenant = request.tenantId.lowercased()
            if let team = request.team?.id {
                installs.teams += 1
                installs.keys.append("team:\(tenant)/\(team)")
            } else {
                installs.personal += 1
                installs.keys.append("user:aad:\(tenant)/\(request.user.aadObjectId.lowercased())")
            }
        }
        return installs
    }

    /// The language a user's Teams is set to: a third Austrian German, a third Brazilian Portuguese, the rest US
    /// English. Teams tells the gateway on install; the example route's `message.locales` has `de` and `pt-BR`.
    package func teamsLocale(ofUser user: Int) -> String { ["de-AT", "pt-BR", "en-US"][user % 3] }

    /// The language the helpdesk knows for an assignee (the route's `locale`), for some who never installed the app
    /// themselves; nil for the rest.
    package func helpdeskLocale(ofUser user: Int) -> String? {
        user % 10 == 5 ? (user % 20 == 5 ? "de-DE" : "pt-BR") : nil
    }

    /// Ticket cards delivered in German and in Portuguese (their example templates' "assigned" lines).
    package static func languages(in conversations: [DemoConversation]) -> (german: Int, portuguese: Int) {
        var german = 0, portuguese = 0
        for conversation in conversations {
            for activity in conversation.activities where activity.operation == "send" {
                let text = String(decoding: activity.body ?? [], as: UTF8.self)
                if text.contains("Ihnen zugewiesen von") { german += 1 }
                if text.contains("Atribuído a você por") { portuguese += 1 }
            }
        }
        return (german, portuguese)
    }

    /// Digest messages of failed builds Teams received (the example's `build-digest.json`).
    package static func buildDigests(in conversations: [DemoConversation]) -> Int {
        conversations.reduce(0) { total, conversation in
            total
                + conversation.activities.filter {
                    $0.operation == "send" && String(decoding: $0.body ?? [], as: UTF8.self).contains("builds failed")
                }.count
        }
    }

    /// How many install conversations received a welcome card as their first message.
    package static func welcomed(_ installs: Installs, in conversations: [DemoConversation]) -> Int {
        var welcomed: Set<String> = []
        for conversation in conversations {
            let base = String(conversation.id.prefix { $0 != ";" })
            guard installs.conversations.contains(base), let first = conversation.activities.first?.body else {
                continue
            }
            let text = String(decoding: first, as: UTF8.self)
            if text.contains("Welcome, ") || text.contains("added the notifications app") { welcomed.insert(base) }
        }
        return welcomed.count
    }

    /// How many of the references the gateway published for `installs` the worker's store holds.
    package static func captured(_ installs: Installs, in store: any HeraldStore) async throws -> Int {
        var count = 0
        for key in installs.keys where try await store.reference(key: key) != nil { count += 1 }
        return count
    }
}
