import Foundation
import Kafka
import TeamsEmulator

/// The demo's third act: people answer the ticket cards. Some press "Acknowledge", some "Stop these
/// notifications" (through the emulator, as Teams posts a button to the gateway); then each of them is assigned
/// one more ticket, which those who opted out do not get.
extension DemoWorld {
    package struct Clicks {
        package init() {}

        package var acknowledged = 0
        package var optedOut = 0
        /// Presses the gateway did not answer as expected (an error, a timeout, an invalid answer).
        package var failed = 0
        /// The follow-up tickets, one per user who pressed a button.
        package var followUps: [ProducerMessage] = []
        /// Users who opted out, each assigned one follow-up ticket.
        package var optedOutUsers: Set<Int> = []

        /// Outcomes the follow-ups and the presses add: two per ticket (the assignee, the on-call chat) and one per
        /// press (its interaction event, which no route takes: `unroutable`).
        package var outcomes: Int { followUps.count * 2 + acknowledged + optedOut + failed }
    }

    /// Presses a button on the latest ticket card of up to `count` personal chats (half Acknowledge, half
    /// "Stop these notifications"), 8 at a time, and builds one follow-up ticket per user who pressed.
    package func click(through emulator: some DemoTeams, count: Int, topic: String, now: Date) async throws -> Clicks {
        var users: [String: Int] = [:]
        for user in 0..<recipients { users[aadObjectId(user).lowercased()] = user }
        // Personal chats holding a card with Herald's buttons, and whose user that is (the card's herald block
        // names its delivery, whose id ends with the recipient).
        var cards: [(conversation: String, activity: String, user: Int)] = []
        for conversation in try await emulator.conversations().sorted(by: { $0.id < $1.id }) where !conversation.isGroup
        {
            for id in conversation.liveActivityIds.reversed() {
                guard let body = conversation.body(of: id),
                    let user = Self.ticketCardUser(body, users: users)
                else { continue }
                cards.append((conversation.id, id, user))
                break
            }
            if cards.count >= count { break }
        }
        let results = await withTaskGroup(of: (Int, String, Bool?).self) { group in
            var results: [(Int, String, Bool?)] = []
            for (index, card) in cards.enumerated() {
                if index >= 8, let done = await group.next() { results.append(done) }
                let verb = index % 2 == 0 ? "herald.ack" : "herald.optOut"
                group.addTask {
                    let result = try? await emulator.click(
                        TeamsClick(conversationId: card.conversation, activityId: card.activity, verb: verb))
                    return (card.user, verb, result)
                }
            }
            for await result in group { results.append(result) }
            return results
        }
        var clicks = Clicks()
        let time = ISO8601DateFormatter().string(from: now)
        let day = Self.zones(now: now).day
        for (offset, (user, verb, result)) in results.sorted(by: { $0.0 < $1.0 }).enumerated() {
            guard result == true else {
                clicks.failed += 1
                continue
            }
            if verb == "herald.ack" {
                clicks.acknowledged += 1
            } else {
                clicks.optedOut += 1
                clicks.optedOutUsers.insert(user)
            }
            let index = events + offset
            clicks.followUps.append(
                ProducerMessage(
                    topic: topic, key: Array("HD-\(index)".utf8),
                    value: Array(ticketAssigned(index, to: user, timeZone: day, time: time).utf8)))
        }
        return clicks
    }

    /// The user a ticket card (an activity the bot sent) was delivered to, when it carries Herald's buttons.
    package static func ticketCardUser(_ activity: [UInt8], users: [String: Int]) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(activity)) as? [String: Any],
            let attachments = object["attachments"] as? [[String: Any]],
            let card = attachments.first?["content"] as? [String: Any],
            let actions = card["actions"] as? [[String: Any]],
            let optOut = actions.first(where: { $0["verb"] as? String == "herald.optOut" }),
            let herald = (optOut["data"] as? [String: Any])?["herald"] as? [String: Any],
            let deliveryId = herald["deliveryId"] as? String,
            let identity = deliveryId.split(separator: "|").last, identity.hasPrefix("user:aad:"),
            let aad = identity.split(separator: "/").last
        else { return nil }
        return users[String(aad)]
    }
}
