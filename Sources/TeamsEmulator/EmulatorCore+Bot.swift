import Foundation

extension EmulatorCore {
    /// Tells the bot what Teams tells it when `install` happens, in Teams' order: an `installationUpdate`
    /// (add, remove, add-upgrade or remove-upgrade) then, except for upgrades, a `conversationUpdate` with the bot
    /// in `membersAdded`/`membersRemoved`; for a member joining or leaving a team, the `conversationUpdate` with the
    /// user. Each is posted with retries; the bot's answers, 401s included, are in the result.
    func install(_ install: TeamsInstall) async throws(BotDriveError) -> BotDelivery {
        if (install.action == .memberAdded || install.action == .memberRemoved) && install.scope != .team {
            throw .badInput("memberAdded and memberRemoved are team events: use scope team")
        }
        let serviceUrl = self.inboundServiceUrl
        let now = Date()
        let (endpoint, appId, place, activities) = try self.state.withLock {
            state throws(BotDriveError) -> (String, String, TeamsPlace, [TeamsActivity]) in
            guard let endpoint = state.configuration.botEndpoint else { throw BotDriveError.noBotEndpoint }
            let appId = state.configuration.appId
            let place = state.place(for: install)
            let user = state.account(install.user)
            let context = ActivityContext(
                from: user, bot: Self.botAccount(appId), place: place, serviceUrl: serviceUrl, locale: install.locale,
                timeZone: install.timeZone, now: now)
            var activities: [TeamsActivity] = []
            let eventType: (added: String, removed: String)? =
                install.scope == .team ? ("teamMemberAdded", "teamMemberRemoved") : nil
            switch install.action {
            case .add, .remove:
                var update = context.activity("installationUpdate", id: state.makeInboundActivityId())
                let action = install.action == .add ? "add" : "remove"
                update.action = install.upgrade ? action + "-upgrade" : action
                activities.append(update)
                // An upgrade changes the app, not who is in the conversation: no conversationUpdate.
                guard !install.upgrade else { break }
                let added = install.action == .add
                var members = context.activity(
                    "conversationUpdate", id: state.makeInboundActivityId(),
                    eventType: added ? eventType?.added : eventType?.removed)
                if added { members.membersAdded = [context.bot] } else { members.membersRemoved = [context.bot] }
                activities.append(members)
            case .memberAdded, .memberRemoved:
                let added = install.action == .memberAdded
                var members = context.activity(
                    "conversationUpdate", id: state.makeInboundActivityId(),
                    eventType: added ? eventType?.added : eventType?.removed)
                if added { members.membersAdded = [user] } else { members.membersRemoved = [user] }
                activities.append(members)
            }
            return (endpoint, appId, place, activities)
        }
        let posted = await self.deliver(
            activities.map { ($0.id, $0.type, $0.json()) }, to: endpoint, appId: appId, token: install.token,
            serviceUrlClaim: serviceUrl)
        return BotDelivery(
            conversationId: place.conversationId, serviceUrl: serviceUrl, activities: posted.map(\.posted))
    }

    /// Posts the user's `message` activity (`text`, `textFormat: plain`) to the bot.
    func message(_ message: TeamsMessage) async throws(BotDriveError) -> BotDelivery {
        let serviceUrl = self.inboundServiceUrl
        let now = Date()
        let (endpoint, appId, place, activity) = try self.state.withLock {
            state throws(BotDriveError) -> (String, String, TeamsPlace, TeamsActivity) in
            guard let endpoint = state.configuration.botEndpoint else { throw BotDriveError.noBotEndpoint }
            guard let place = state.place(forMessage: message) else {
                throw BotDriveError(status: 404, message: "No such conversation: \(message.conversationId ?? "")")
            }
            let appId = state.configuration.appId
            let context = ActivityContext(
                from: state.account(message.user), bot: Self.botAccount(appId), place: place, serviceUrl: serviceUrl,
                locale: message.locale, timeZone: message.timeZone, now: now)
            var activity = context.activity("message", id: state.makeActivityId())
            activity.text = message.text
            activity.textFormat = "plain"
            return (endpoint, appId, place, activity)
        }
        let posted = await self.deliver(
            [(activity.id, activity.type, activity.json())], to: endpoint, appId: appId, token: message.token,
            serviceUrlClaim: serviceUrl)
        return BotDelivery(
            conversationId: place.conversationId, serviceUrl: serviceUrl, activities: posted.map(\.posted))
    }

    /// Posts `body` to the bot exactly as given (hostile input), with a token whose `serviceurl` is
    /// `serviceUrlClaim` (default: the activity's `serviceUrl`, else ``inboundServiceUrl``).
    func post(
        rawActivity body: [UInt8],
        token: BotTokenKind,
        serviceUrlClaim: String?
    ) async throws(BotDriveError) -> BotDelivery {
        let object =
            (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) as? [String: Any]
        let id = object?["id"] as? String ?? ""
        let type = object?["type"] as? String ?? ""
        let conversationId = (object?["conversation"] as? [String: Any])?["id"] as? String ?? ""
        let serviceUrl = object?["serviceUrl"] as? String ?? self.inboundServiceUrl
        let (endpoint, appId) = try self.state.withLock { state throws(BotDriveError) -> (String, String) in
            guard let endpoint = state.configuration.botEndpoint else { throw BotDriveError.noBotEndpoint }
            return (endpoint, state.configuration.appId)
        }
        let posted = await self.deliver(
            [(id, type, body)], to: endpoint, appId: appId, token: token,
            serviceUrlClaim: serviceUrlClaim ?? serviceUrl)
        return BotDelivery(conversationId: conversationId, serviceUrl: serviceUrl, activities: posted.map(\.posted))
    }

    /// Posts each activity in turn, each with its own token, recording what was posted and counting attempts and
    /// failures.
    /// - Parameters:
    ///   - timeout: for each attempt. Default: ``BotEndpoint/timeout``
    ///   - retries: whether to retry as the Bot Connector does. Default: true
    /// - Returns: each activity as posted, and whether its last attempt timed out.
    func deliver(
        _ activities: [(id: String, type: String, body: [UInt8])],
        to endpoint: String,
        appId: String,
        token kind: BotTokenKind,
        serviceUrlClaim: String,
        timeout: Duration = BotEndpoint.timeout,
        retries: Bool = true
    ) async -> [(posted: PostedActivity, timedOut: Bool)] {
        var posted: [(PostedActivity, Bool)] = []
        for activity in activities {
            let token = self.botTokens.token(kind, appId: appId, serviceUrl: serviceUrlClaim)
            let outcome = await self.botEndpoint.post(
                activity.body, to: endpoint, token: token, timeout: timeout, retries: retries
            ) {
                self.state.withLock { $0.stats.activitiesPosted += 1 }
            }
            let result = PostedActivity(
                id: activity.id, type: activity.type, status: outcome.status, attempts: outcome.attempts,
                responseBody: outcome.body)
            self.state.withLock { state in
                if !(200..<300).contains(outcome.status) { state.stats.activityFailures += 1 }
                state.posted.append(
                    PostedActivity(id: result.id, type: result.type, status: result.status, attempts: result.attempts))
            }
            if !(200..<300).contains(outcome.status) {
                self.logger.debug(
                    "bot answered an activity with an error",
                    metadata: ["activity.type": "\(activity.type)", "http.status": "\(outcome.status)"])
            }
            posted.append((result, outcome.timedOut))
        }
        return posted
    }

    /// The bot as Teams names it in `recipient` and `membersAdded`: `28:{appId}`.
    static func botAccount(_ appId: String) -> TeamsActivity.Account {
        TeamsActivity.Account(id: "28:\(appId)", name: EmulatorState.teamsAppDisplayName)
    }
}

/// What the activities of one event share.
struct ActivityContext {
    var from: TeamsActivity.Account
    var bot: TeamsActivity.Account
    var place: TeamsPlace
    var serviceUrl: String
    var locale: String
    var timeZone: String
    var now: Date

    func activity(_ type: String, id: String, eventType: String? = nil) -> TeamsActivity {
        let (timestamp, localTimestamp) = TeamsActivity.timestamps(self.now, timeZone: self.timeZone)
        return TeamsActivity(
            type: type,
            id: id,
            timestamp: timestamp,
            localTimestamp: localTimestamp,
            serviceUrl: self.serviceUrl,
            from: self.from,
            recipient: self.bot,
            conversation: self.place.conversation,
            channelData: self.place.channelData(eventType: eventType),
            locale: self.locale,
            localTimezone: self.timeZone,
            entities: [TeamsActivity.ClientInfo(locale: self.locale, timezone: self.timeZone)]
        )
    }
}

extension EmulatorState {
    /// The user as Teams names them in `from` and `membersAdded`.
    func account(_ user: TeamsUser) -> TeamsActivity.Account {
        TeamsActivity.Account(
            id: self.teamsUserId(aadObjectId: user.aadObjectId), name: user.name, aadObjectId: user.aadObjectId)
    }
}
