import Foundation

extension EmulatorState {
    /// A click ready to be posted to the bot, and where its card is.
    struct PreparedClick: Sendable {
        var endpoint: String
        var appId: String
        var invokeTimeout: Duration
        var conversationId: String
        var activityId: String
        var button: CardButton
        /// The index, among the activity's attachments, of the card pressed.
        var attachment: Int
        /// What Teams posts: an `invoke` for an Action.Execute, a `message` for an Action.Submit.
        var activity: TeamsActivity
    }

    /// Finds the activity, its Adaptive Card and the button, and makes the activity Teams posts when the button is
    /// pressed, with `override` over the button's data.
    /// - Throws: 409 without a bot endpoint; 404 for an unknown conversation, an activity not there (or deleted),
    ///   no button matching; 400 for bad input, an activity without an Adaptive Card or whose body is not kept.
    mutating func prepare(
        _ click: TeamsClick,
        data override: [String: JSONValue]?,
        serviceUrl: String,
        now: Date
    ) throws(BotDriveError) -> PreparedClick {
        guard let endpoint = self.configuration.botEndpoint else { throw .noBotEndpoint }
        guard !click.conversationId.isEmpty else { throw .badInput("conversationId is required") }
        guard !click.activityId.isEmpty else { throw .badInput("activityId is required") }
        guard click.verb != nil || click.title != nil else { throw .badInput("verb or title is required") }
        if click.verb == "" || click.title == "" { throw .badInput("verb and title must not be empty") }
        let (conversationId, activityId) = (click.conversationId, click.activityId)
        guard let record = self.conversations[conversationId], let place = self.place(ofConversation: conversationId)
        else { throw BotDriveError(status: 404, message: "No such conversation: \(conversationId)") }
        guard record.live.contains(activityId), let stored = record.conversation.activity(activityId) else {
            throw BotDriveError(
                status: 404,
                message: "No activity \(activityId) in conversation \(conversationId): never sent, or deleted")
        }
        guard let body = stored.body, let activity = JSONValue(json: body) else {
            throw .badInput("The body of activity \(activityId) is not kept (maxRecordedBodies)")
        }
        let cards = Self.adaptiveCards(in: activity)
        guard !cards.isEmpty else { throw .badInput("Activity \(activityId) has no Adaptive Card attachment") }
        var found: (button: CardButton, attachment: Int)?
        var buttons: [CardButton] = []
        for (attachment, card) in cards {
            let inCard = CardButton.all(in: card)
            if found == nil, let button = inCard.first(where: { $0.matches(verb: click.verb, title: click.title) }) {
                found = (button, attachment)
            }
            buttons += inCard
        }
        guard let found else {
            let asked = [
                click.verb.map { "verb \(JSONText.quote($0))" }, click.title.map { "title \(JSONText.quote($0))" },
            ]
            let listed =
                buttons.isEmpty
                ? "it has no Action.Execute or Action.Submit"
                : "its buttons: " + buttons.map(\.summary).joined(separator: ", ")
            throw BotDriveError(
                status: 404,
                message:
                    "No button with \(asked.compactMap { $0 }.joined(separator: " and ")) in the card of activity "
                    + "\(activityId); \(listed)")
        }
        let appId = self.configuration.appId
        let context = ActivityContext(
            from: try self.clicker(click.from, record: record), bot: EmulatorCore.botAccount(appId), place: place,
            serviceUrl: serviceUrl, locale: click.locale, timeZone: click.timeZone, now: now)
        let data = found.button.data(mergedWith: override)
        var posted: TeamsActivity
        switch found.button.kind {
        case .execute:
            posted = context.activity("invoke", id: self.makeInboundActivityId())
            posted.name = "adaptiveCard/action"
            var action: [String: JSONValue] = ["type": .string(CardButton.Kind.execute.rawValue), "data": data]
            if let id = found.button.id { action["id"] = .string(id) }
            if let verb = found.button.verb { action["verb"] = .string(verb) }
            posted.value = .object(["action": .object(action), "trigger": .string("manual")])
        case .submit:
            posted = context.activity("message", id: self.makeActivityId())
            posted.value = data
        }
        posted.replyToId = activityId
        self.stats.clicks += 1
        return PreparedClick(
            endpoint: endpoint, appId: appId, invokeTimeout: self.configuration.invokeTimeout,
            conversationId: conversationId, activityId: activityId, button: found.button,
            attachment: found.attachment, activity: posted)
    }

    /// Counts the bot's answer; a card answer replaces the card pressed, an update of the activity as Teams shows
    /// it (into the activity as it stands now: the bot may have updated it meanwhile).
    /// - Returns: the card as it stands after the click; nil when the activity is gone or its body is not kept.
    mutating func settle(_ click: PreparedClick, answer: ClickAnswer, replacement: JSONValue?) -> JSONValue? {
        self.stats.clickAnswers[answer.kind] += 1
        guard let index = self.conversations.index(forKey: click.conversationId),
            self.conversations.values[index].live.contains(click.activityId),
            let body = self.conversations.values[index].conversation.activity(click.activityId)?.body,
            let activity = JSONValue(json: body), let card = Self.card(at: click.attachment, in: activity)
        else { return nil }
        guard let replacement, var members = activity.object, var attachments = members["attachments"]?.array,
            var attachment = attachments[click.attachment].object
        else { return card }
        attachment["content"] = replacement
        attachments[click.attachment] = .object(attachment)
        members["attachments"] = .array(attachments)
        let kept = self.keep(JSONValue.object(members).json)
        self.conversations.values[index].append(
            RecordedActivity(id: click.activityId, operation: .update, body: kept))
        self.stats.activitiesUpdated += 1
        return replacement
    }

    /// Who presses the button: `user` as given (the id or AAD object id left out derived from the other), else a
    /// personal chat's user.
    private func clicker(
        _ user: TeamsClick.User?,
        record: ConversationRecord
    ) throws(BotDriveError) -> TeamsActivity.Account {
        guard let user else {
            guard !record.conversation.isGroup, let userId = record.conversation.userId else {
                throw .badInput("from is required in channels and group chats")
            }
            return TeamsActivity.Account(
                id: userId, name: record.userName ?? self.member(id: userId)?.name,
                aadObjectId: record.aadObjectId ?? self.aadObjectId(teamsUserId: userId))
        }
        if user.id == "" || user.aadObjectId == "" { throw .badInput("from.id and from.aadObjectId must not be empty") }
        guard let id = user.id ?? user.aadObjectId.map(self.teamsUserId(aadObjectId:)) else {
            throw .badInput("from needs an id or an aadObjectId")
        }
        return TeamsActivity.Account(
            id: id, name: user.name, aadObjectId: user.aadObjectId ?? self.aadObjectId(teamsUserId: id))
    }

    /// The activity's Adaptive Card attachments, with their index among its attachments.
    private static func adaptiveCards(in activity: JSONValue) -> [(index: Int, card: JSONValue)] {
        (activity["attachments"]?.array ?? []).indices.compactMap { index in
            self.card(at: index, in: activity).map { (index, $0) }
        }
    }

    /// The content of attachment `index` when it is an Adaptive Card.
    private static func card(at index: Int, in activity: JSONValue) -> JSONValue? {
        guard let attachments = activity["attachments"]?.array, attachments.indices.contains(index),
            attachments[index]["contentType"]?.string == CardButton.adaptiveCardType,
            let card = attachments[index]["content"], card.object != nil
        else { return nil }
        return card
    }
}
