import NIOHTTP1

extension EmulatorState {
    /// `POST v3/conversations`: a 1:1 chat (the existing one when there is one) or a channel thread.
    mutating func create(_ info: Validation.CreateInfo, now: ContinuousClock.Instant) -> Reply {
        if self.configuration.disabledTenants.contains(info.tenantId) {
            return Self.error(.forbidden, "BotDisabledByAdmin", "The bot is disabled by the tenant admin.")
        }
        switch info.target {
        case .channel(let channelId):
            return self.createThread(channelId: channelId, info: info, now: now)
        case .user(let id):
            return self.createChat(userId: id, aadObjectId: self.member(id: id)?.aadObjectId, info: info, now: now)
        case .userAADObjectId(let objectId):
            let userId = self.member(aadObjectId: objectId)?.id ?? "29:1\(objectId)"
            return self.createChat(userId: userId, aadObjectId: objectId, info: info, now: now)
        }
    }

    private mutating func createChat(
        userId: String,
        aadObjectId: String?,
        info: Validation.CreateInfo,
        now: ContinuousClock.Instant
    ) -> Reply {
        if self.lacksBot(userId: userId, aadObjectId: aadObjectId) { return self.notInstalledReply }
        // A user has one 1:1 chat with the bot, so the user is the thread the create limits count on.
        if let throttled = self.throttleCreate(userId, tenantId: info.tenantId, now: now) { return throttled }
        let conversationId = self.openChat(userId: userId, aadObjectId: aadObjectId, tenantId: info.tenantId)
        let serviceUrl = self.serviceUrlField(tenantId: info.tenantId)
        guard let activity = info.activity else {
            return Reply(status: .created, body: #"{"id":\#(JSONText.quote(conversationId))\#(serviceUrl)}"#)
        }
        if let refusal = self.refusal(for: self.conversations[conversationId]!) { return refusal }
        let activityId = self.record(activity, in: conversationId)
        return Reply(
            status: .created,
            body: #"{"id":\#(JSONText.quote(conversationId)),"activityId":"\#(activityId)"\#(serviceUrl)}"#
        )
    }

    /// The user's 1:1 chat with the bot in `tenantId`, created when there is none yet (Graph's installation chat is
    /// the same). A chat belongs to one tenant: a guest's chat in another tenant is another conversation, counted
    /// against that tenant's limits.
    mutating func openChat(userId: String, aadObjectId: String?, tenantId: String) -> String {
        let tenant = tenantId.lowercased()
        if let existing = self.userConversations[tenant + "|" + userId] { return existing }
        let conversationId = self.makeConversationId()
        let conversation = EmulatedConversation(
            id: conversationId,
            tenantId: tenantId,
            isGroup: false,
            userId: userId,
            channelId: nil
        )
        self.insert(ConversationRecord(conversation: conversation, aadObjectId: aadObjectId))
        self.userConversations[tenant + "|" + userId] = conversationId
        if let aadObjectId { self.userConversations[tenant + "|" + aadObjectId] = conversationId }
        return conversationId
    }

    private mutating func createThread(
        channelId: String,
        info: Validation.CreateInfo,
        now: ContinuousClock.Instant
    ) -> Reply {
        if self.configuration.removedFromConversations.contains(channelId) || self.uninstalledFrom.contains(channelId) {
            return Self.error(
                .forbidden, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        }
        if let throttled = self.throttleCreate(channelId, tenantId: info.tenantId, now: now) { return throttled }
        let activityId = self.makeActivityId()
        let conversationId = "\(channelId);messageid=\(activityId)"
        let conversation = EmulatedConversation(
            id: conversationId,
            tenantId: info.tenantId,
            isGroup: true,
            userId: nil,
            channelId: channelId
        )
        self.insert(ConversationRecord(conversation: conversation))
        self.record(info.activity ?? [], in: conversationId, id: activityId)
        let serviceUrl = self.serviceUrlField(tenantId: info.tenantId)
        return Reply(
            status: .created,
            body: #"{"id":\#(JSONText.quote(conversationId)),"activityId":"\#(activityId)"\#(serviceUrl)}"#
        )
    }

    mutating func insert(_ record: ConversationRecord) {
        self.conversations[record.conversation.id] = record
        self.conversationOrder.append(record.conversation.id)
        self.stats.conversationsCreated += 1
    }

    @discardableResult
    private mutating func record(_ body: [UInt8], in conversationId: String, id: String? = nil) -> String {
        let activityId = id ?? self.makeActivityId()
        let kept = self.keep(body)
        self.conversations[conversationId]?.append(RecordedActivity(id: activityId, operation: .send, body: kept))
        self.stats.activitiesSent += 1
        return activityId
    }

    private mutating func throttleCreate(_ key: String, tenantId: String, now: ContinuousClock.Instant) -> Reply? {
        guard let windows = self.configuration.limits.conversationWindows else { return nil }
        return self.throttle(
            \.createLimiters, limit: "createConversation", key: key, windows: windows, tenantId: tenantId, now: now)
    }

    func member(id: String) -> EmulatorConfiguration.Member? {
        self.membersByKey[id].flatMap { $0.id == id ? $0 : nil }
    }

    func member(aadObjectId: String) -> EmulatorConfiguration.Member? {
        self.membersByKey[aadObjectId].flatMap { $0.aadObjectId == aadObjectId ? $0 : nil }
    }
}
