import NIOHTTP1

extension EmulatorState {
    /// `GET v3/conversations/{id}/pagedmembers`: a team's configured roster, or a conversation's user.
    mutating func members(
        _ id: String,
        pageSize: Int?,
        continuationToken: String?,
        now: ContinuousClock.Instant
    ) -> Reply {
        let roster: [EmulatorConfiguration.Member]
        let tenantId: String?
        if let team = self.configuration.teams[id] {
            roster = team
            tenantId = self.configuration.teamTenants[id]
        } else if let record = self.conversations[id] {
            if let refusal = self.refusal(for: record) { return refusal }
            let user = record.conversation.userId.map {
                EmulatorConfiguration.Member(id: $0, aadObjectId: record.aadObjectId)
            }
            roster = user.map { [$0] } ?? []
            tenantId = record.conversation.tenantId
        } else {
            return Self.conversationNotFound
        }
        if self.configuration.removedFromConversations.contains(id) {
            return Self.error(
                .forbidden, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        }
        if let throttled = self.throttleMembers(id, tenantId: tenantId, now: now) { return throttled }

        let size = min(max(pageSize ?? 200, 1), 500)
        var start = 0
        if let continuationToken {
            guard continuationToken.hasPrefix("emu-"), let offset = Int(continuationToken.dropFirst(4)),
                (0...roster.count).contains(offset)
            else { return Self.error(.badRequest, "BadArgument", "Invalid continuation token.") }
            start = offset
        }
        let end = min(start + size, roster.count)
        var body = #"{"members":["#
        for (index, member) in roster[start..<end].enumerated() {
            if index > 0 { body += "," }
            body += #"{"id":\#(JSONText.quote(member.id))"#
            if let name = member.name { body += #","name":\#(JSONText.quote(name))"# }
            if let objectId = member.aadObjectId { body += #","aadObjectId":\#(JSONText.quote(objectId))"# }
            body += "}"
        }
        body += "]"
        if end < roster.count { body += #","continuationToken":"emu-\#(end)""# }
        body += "}"
        return Reply(status: .ok, body: body)
    }

    /// `GET v3/teams/{teamId}/conversations`: the team's channels, General without a name. Teams counts these
    /// reads like member reads (14/1 s ... per thread) and against the tenant's 50 a second.
    mutating func channels(of teamId: String, now: ContinuousClock.Instant) -> Reply {
        guard self.configuration.teams[teamId] != nil || self.configuration.teamChannels[teamId] != nil else {
            return Self.error(.notFound, "NotFound", "The team was not found or the bot is not in it.")
        }
        if self.configuration.removedFromConversations.contains(teamId) {
            return Self.error(
                .forbidden, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        }
        if let windows = self.configuration.limits.membersWindows,
            let throttled = self.throttle(
                \.membersLimiters, limit: "conversations", key: "conversations\u{0}" + teamId, windows: windows,
                tenantId: self.configuration.teamTenants[teamId], now: now)
        {
            return throttled
        }
        let channels =
            self.configuration.teamChannels[teamId] ?? [EmulatorConfiguration.Channel(id: teamId, name: nil)]
        let listed = channels.map { channel in
            #"{"id":\#(JSONText.quote(channel.id))"# + (channel.name.map { #","name":\#(JSONText.quote($0))"# } ?? "")
                + "}"
        }
        return Reply(status: .ok, body: #"{"conversations":["# + listed.joined(separator: ",") + "]}")
    }

    private mutating func throttleMembers(_ id: String, tenantId: String?, now: ContinuousClock.Instant) -> Reply? {
        guard let windows = self.configuration.limits.membersWindows else { return nil }
        return self.throttle(
            \.membersLimiters, limit: "members", key: id, windows: windows, tenantId: tenantId, now: now)
    }
}
